#!/usr/bin/env node
// Runs TypeScript's tsc without a node_modules of our own: the compiler comes from
// AGENTMESH_TYPESCRIPT (a typescript package dir), a local node_modules, or the
// agentmesh workspace this example lives in (resolved from packages/coder).
'use strict';
const path = require('node:path');

function resolveTsc() {
  const candidates = [];
  if (process.env.AGENTMESH_TYPESCRIPT) candidates.push(path.join(process.env.AGENTMESH_TYPESCRIPT, 'bin', 'tsc'));
  const searchFrom = [path.resolve(__dirname, '..'), path.resolve(__dirname, '../../../packages/coder')];
  for (const from of searchFrom) {
    try {
      candidates.push(require.resolve('typescript/bin/tsc', { paths: [from] }));
    } catch {
      // not resolvable from here; try the next place
    }
  }
  const fs = require('node:fs');
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    process.stderr.write('broken-repo: cannot find TypeScript; set AGENTMESH_TYPESCRIPT to a typescript package directory\n');
    process.exit(2);
  }
  return found;
}

module.exports = { resolveTsc };

if (require.main === module) {
  const { spawnSync } = require('node:child_process');
  const result = spawnSync(process.execPath, [resolveTsc(), ...process.argv.slice(2)], { stdio: 'inherit', cwd: process.cwd() });
  process.exit(result.status === null ? 1 : result.status);
}
