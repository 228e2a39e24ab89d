/** Parses `tsc --noEmit --pretty false` output into the wire Diagnostics. */
import type { Diagnostic } from '@agentmesh/protocol';

const located = /^(.+?)\((\d+),(\d+)\): (error|warning|message|suggestion) TS(\d+): (.*)$/;
const global = /^(error|warning|message) TS(\d+): (.*)$/;

/**
 * Turns tsc's plain output into Diagnostics with file, 1-based line and column and code;
 * indented continuation lines (message chains) join the message. Character offsets are
 * unknown from text output and left 0.
 */
export function parseTscOutput(output: string, options: { root?: string } = {}): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const relative = (file: string) => {
    const normalized = file.replace(/\\/g, '/');
    const root = options.root?.replace(/\\/g, '/').replace(/\/?$/, '/');
    return root && normalized.startsWith(root) ? normalized.slice(root.length) : normalized;
  };
  for (const line of output.split(/\r?\n/)) {
    const match = located.exec(line);
    if (match) {
      const [, file, row, column, category, code, message] = match;
      diagnostics.push({ file: relative(file), line: Number(row), column: Number(column), code: Number(code), message, category, start: 0, length: 0 });
      continue;
    }
    const globalMatch = global.exec(line);
    if (globalMatch) {
      const [, category, code, message] = globalMatch;
      diagnostics.push({ file: '', line: 0, column: 0, code: Number(code), message, category, start: 0, length: 0 });
      continue;
    }
    const last = diagnostics[diagnostics.length - 1];
    if (last && /^\s+\S/.test(line)) last.message += `\n${line.trim()}`;
  }
  return diagnostics;
}
