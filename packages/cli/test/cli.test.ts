// The agentmesh command as a user runs it: built JS in child processes (build first:
// npx tsc -b packages/cli).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { firstValueFrom, filter } from 'rxjs';
import { createConductor, RunFailedError } from '@agentmesh/conductor';
import { copyExample, startChildService, stopChildService, type ChildService } from '../src';

const main = path.resolve(__dirname, '../dist/main.js');
const env = { ...process.env, LOG_LEVEL: 'silent' };

function runCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// startChildService resolves main.js beside its own file; under jest that is src/, so point it at dist.
jest.mock('node:path', () => {
  const actual = jest.requireActual('node:path');
  return { ...actual, join: (...parts: string[]) => (parts.length === 2 && parts[1] === 'main.js' && parts[0].endsWith(actual.join('cli', 'src')) ? actual.resolve(parts[0], '../dist/main.js') : actual.join(...parts)) };
});

test('demo runs the three agents as processes, repairs a copy and exits 0', async () => {
  const result = await runCli(['demo']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/planner\s+listening on 127\.0\.0\.1:\d+ \(pid \d+\)/);
  expect(result.stdout).toMatch(/probe diagnostics\s+ok/);
  expect(result.stdout).toContain('check tests passed');
  expect(result.stdout).toContain('status: PASSED');
  expect(result.stdout).toContain('the copy on disk: typecheck passed, tests passed');
  expect(result.stdout).toContain('stopped 3 agent processes');
}, 60_000);

test('an agent process killed in the middle of a run fails the run with an error naming it', async () => {
  const children: ChildService[] = [];
  const workspace = copyExample();
  try {
    const validator = await startChildService('validator', ['validator'], { LOG_LEVEL: 'silent' });
    children.push(validator);
    const planner = await startChildService('planner', ['planner', '--validator', validator.address], { LOG_LEVEL: 'silent' });
    const coder = await startChildService('coder', ['coder'], { LOG_LEVEL: 'silent' });
    children.push(planner, coder);
    const conductor = createConductor({ agents: { planner: planner.address, coder: coder.address, validator: validator.address } });
    try {
      const run = conductor.run({ workspace, goal: 'tests' });
      await firstValueFrom(run.events$.pipe(filter((event) => event.type === 'task-state' && event.to === 'implementing')));
      // Let the implement calls reach the coder, so it dies with work in hand.
      await new Promise((resolve) => setTimeout(resolve, 150));
      coder.process.kill('SIGKILL');
      const failure = (await run.result.catch((error: unknown) => error)) as RunFailedError;
      expect(failure).toBeInstanceOf(RunFailedError);
      expect(failure.agent).toBe('coder');
      expect(failure.message).toMatch(new RegExp(`^coder at ${coder.address.replace(/\./g, '\\.')} failed during implement T00\\d`));
      expect(failure.report?.status).toBe('failed');
      expect(failure.report?.error?.agent).toBe('coder');
    } finally {
      await conductor.close();
    }
  } finally {
    await Promise.all(children.map((child) => stopChildService(child)));
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}, 60_000);

test('a bad peer address is one clear line naming the setting, exit code 2', () => {
  const result = spawnSync(process.execPath, [main, 'run', path.resolve(__dirname, '../../../examples/broken-repo')], { env: { ...env, AGENTMESH_CODER_ADDR: 'localhost' }, encoding: 'utf8' });
  expect(result.status).toBe(2);
  expect(result.stderr.split('\n')[0]).toBe('agentmesh: AGENTMESH_CODER_ADDR must be host:port with a port from 1 to 65535, got "localhost"');
  const flag = spawnSync(process.execPath, [main, 'serve', 'planner', '--validator', 'nope:99999'], { env, encoding: 'utf8' });
  expect(flag.status).toBe(2);
  expect(flag.stderr.split('\n')[0]).toContain('--validator must be host:port');
  const transport = spawnSync(process.execPath, [main, 'run', '.', '--transport', 'carrier-pigeon'], { env, encoding: 'utf8' });
  expect(transport.status).toBe(2);
  expect(transport.stderr.split('\n')[0]).toContain('--transport must be one of mesh, grpc, unary, rest, rest-nokeepalive');
});

test('run repairs a repository with in-process agents and writes the JSON report; the repo is written only with --apply', async () => {
  const workspace = copyExample();
  const json = `${workspace}.json`;
  try {
    const result = await runCli(['run', workspace, '--goal', 'typecheck', '--json', json, '--patch-out', `${workspace}.patch`]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('status: PASSED');
    const report = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(report.applied).toEqual([]);
    expect(report.patchFile).toBe(`${workspace}.patch`);
    expect(fs.readFileSync(path.join(workspace, 'src/stats.ts'), 'utf8')).toContain('averge(');
  } finally {
    for (const file of [workspace, json, `${workspace}.patch`]) fs.rmSync(file, { recursive: true, force: true });
  }
}, 60_000);

test('doctor says which isolation is available and why not', async () => {
  const result = await runCli(['doctor']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/bubblewrap/);
  expect(result.stdout).toMatch(/→ process sandbox:/);
});

test('smoke still works', async () => {
  const result = await runCli(['smoke']);
  expect(result.code).toBe(0);
  expect(result.stdout).toContain('smoke: OK');
}, 30_000);
