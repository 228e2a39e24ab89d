// Locates this package's built files, so child processes (the isolate host, bench probes) always run
// compiled JavaScript from dist/, whether the caller loaded src/ (jest) or dist/.
import * as fs from 'node:fs';
import * as path from 'node:path';

let packageRoot: string | undefined;

/** The directory holding this package's package.json. */
export function sandboxPackageRoot(): string {
  if (packageRoot) return packageRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === '@agentmesh/sandbox') {
      packageRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the @agentmesh/sandbox package root above ${__dirname}`);
    dir = parent;
  }
}

/** Absolute path of a built file under dist/, or a clear error naming the build command when it is missing. */
export function builtEntry(relative: string): string {
  const file = path.join(sandboxPackageRoot(), 'dist', relative);
  if (!fs.existsSync(file)) {
    throw new Error(`@agentmesh/sandbox is not built: ${file} is missing; run \`npx tsc -b packages/sandbox\` (or npm test, which builds first)`);
  }
  return file;
}
