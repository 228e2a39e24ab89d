#!/usr/bin/env node
// Compiles with tsc (which emits even when there are type errors, so the tests can show
// what the breakages do at run time), then runs Node's built-in test runner on the output.
// The exit code is the test runner's; type errors are reported on stderr only.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { resolveTsc } = require('./tsc');

const root = path.resolve(__dirname, '..');
fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
const compile = spawnSync(process.execPath, [resolveTsc(), '-p', root, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
if (compile.status !== 0) {
  process.stderr.write(`broken-repo: tsc reported type errors (tests run anyway):\n${compile.stdout}${compile.stderr}`);
}
const testDir = path.join(root, 'dist', 'test');
const files = fs.existsSync(testDir)
  ? fs.readdirSync(testDir).filter((name) => name.endsWith('.test.js')).map((name) => path.join(testDir, name))
  : [];
if (files.length === 0) {
  process.stderr.write('broken-repo: no compiled tests found in dist/test\n');
  process.exit(1);
}
const extra = process.argv.slice(2);
const run = spawnSync(process.execPath, ['--test', ...extra, ...files], { cwd: root, stdio: 'inherit' });
process.exit(run.status === null ? 1 : run.status);
