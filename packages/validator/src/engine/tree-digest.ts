/**
 * A digest of a directory tree, so "this probe (or coder, or run) wrote
 * nothing" is a fact to check, not a hope.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Options of treeDigest. */
export interface TreeDigestOptions {
  /** Directory names not descended into (default dist and node_modules). */
  skip?: readonly string[];
  /** Also hash each entry's size and mtime, so even a rewrite with the same bytes shows (default false). */
  metadata?: boolean;
}

/** Hashes every path and file's bytes under dir, in a stable order: equal digests mean nothing changed. */
export function treeDigest(dir: string, options: TreeDigestOptions = {}): string {
  const skip = new Set(options.skip ?? ['dist', 'node_modules']);
  const hash = crypto.createHash('sha256');
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (skip.has(entry.name)) continue;
      const full = path.join(current, entry.name);
      hash.update(path.relative(dir, full));
      if (options.metadata) {
        const stat = fs.lstatSync(full);
        hash.update(`:${stat.mtimeMs}:${stat.size}`);
      }
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) hash.update(fs.readFileSync(full));
    }
  };
  walk(dir);
  return hash.digest('hex');
}
