// The exec policy's half of the attack battery: each smuggling attempt is refused with a clear rule and reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createDecisionRecorder, createExecPolicy, type ExecPolicy, type ExecRefusal, type ExecRequest } from '@agentmesh/sandbox';
import { createWorkspaceFixture, type WorkspaceFixture } from './workspace-fixture';

let workspace: WorkspaceFixture;
let policy: ExecPolicy;

beforeAll(() => {
  workspace = createWorkspaceFixture();
  workspace.write('script.js', 'console.log("ok")');
  workspace.write('src/a.txt', 'a');
  fs.symlinkSync('/etc', path.join(workspace.dir, 'escape'));
  fs.symlinkSync('/etc/passwd', path.join(workspace.dir, 'passwd-link'));
  workspace.write('node_modules/.bin/tsc', '#!/bin/sh\necho fake\n', 0o755);
  policy = createExecPolicy({ workspace: workspace.dir, allow: ['node', 'head', 'ls', 'cat', 'rm', 'tsc', 'find'] });
});
afterAll(() => workspace.remove());

function refused(request: ExecRequest): ExecRefusal {
  const decision = policy.evaluate(request, { dryRun: true });
  if (decision.allowed) throw new Error(`expected a refusal for ${JSON.stringify(request)}, got a plan: ${JSON.stringify(decision)}`);
  expect(decision.reason.length).toBeGreaterThan(10);
  return decision;
}

describe('shell syntax is never interpreted', () => {
  test.each([
    [['.', ';', 'rm', '-rf', '/']],
    [['.', '&&', 'cat', '/etc/shadow']],
    [['.', '|', 'cat']],
    [['. ; rm -rf /']],
    [['$(cat /etc/passwd)']],
    [['`id`']],
    [['<<EOF']],
  ])('ls %j is refused as shell syntax', (args) => {
    expect(refused({ command: 'ls', args }).rule).toBe('shell-syntax');
  });

  test('a command line in the command field is refused', () => {
    const refusal = refused({ command: 'ls; rm -rf /' });
    expect(refusal.rule).toBe('command-syntax');
    expect(refusal.reason).toMatch(/bare executable name/);
  });

  test('an absolute executable path is refused: names only, resolved in trusted dirs', () => {
    expect(refused({ command: '/usr/bin/node', args: ['script.js'] }).rule).toBe('command-syntax');
  });

  test('globs and $VARS are allowed through as literal arguments, never expanded', () => {
    const plan = policy.evaluate({ command: 'head', args: ['*', '$HOME/.ssh/id_rsa'] }, { dryRun: true });
    expect(plan.allowed).toBe(true);
    if (plan.allowed) expect(plan.args).toEqual(['*', '$HOME/.ssh/id_rsa']);
  });
});

describe('wrappers are refused or unwrapped and checked as the inner command', () => {
  test.each([
    ['sh', ['-c', 'rm -rf /'], 'shell'],
    ['bash', ['-lc', 'id'], 'shell'],
    ['dash', ['script.js'], 'shell'],
    ['xargs', ['rm'], 'wrapper'],
    ['env', ['-S', 'node -e 1'], 'wrapper'],
    ['env', ['--split-string=node -e 1'], 'wrapper'],
    ['env', ['-i', 'node', 'script.js'], 'wrapper'],
    ['sudo', ['node', 'script.js'], 'wrapper'],
    ['timeout', ['5', 'sh', '-c', 'id'], 'shell'],
    ['timeout', ['5', 'node', '-e', '1'], 'inline-eval'],
    ['nice', ['-n', '5', 'bash', '-c', 'id'], 'shell'],
    ['env', ['LD_PRELOAD=/tmp/evil.so', 'node', 'script.js'], 'env-denied'],
    ['env', ['NODE_OPTIONS=--require=/tmp/evil.js', 'node', 'script.js'], 'env-denied'],
    ['timeout', ['5', 'curl', 'http://example.com'], 'executable-not-allowed'],
  ])('%s %j → %s', (command, args, rule) => {
    expect(refused({ command, args }).rule).toBe(rule);
  });

  test('timeout and nice around an allowed command are unwrapped; timeout lowers the wall limit', () => {
    const plan = policy.evaluate({ command: 'timeout', args: ['2s', 'nice', '-n', '10', 'node', 'script.js'] }, { dryRun: true });
    expect(plan.allowed).toBe(true);
    if (!plan.allowed) return;
    expect(plan.command).toBe('node');
    expect(plan.file).toBe(fs.realpathSync('/usr/bin/node'));
    expect(plan.args).toEqual(['script.js']);
    expect(plan.limits.wallTimeoutMs).toBe(2000);
    expect(plan.reasons.join(' ')).toMatch(/unwrapped timeout → nice/);
  });
});

describe('interpreter inline eval and preloads', () => {
  test.each([
    [['-e', 'require("fs")']],
    [['--eval=1']],
    [['-p', '1']],
    [['-pe', '1']],
    [['-r', './script.js', 'script.js']],
    [['--require', './script.js', 'script.js']],
    [['--import=./script.js', 'script.js']],
    [['--loader', './script.js', 'script.js']],
    [['-']],
    [[]],
  ])('node %j is refused', (args) => {
    expect(refused({ command: 'node', args }).rule).toBe('inline-eval');
  });

  test('node options off the allowlist are refused', () => {
    expect(refused({ command: 'node', args: ['--env-file=.env', 'script.js'] }).rule).toBe('option-not-allowed');
    expect(refused({ command: 'node', args: ['--inspect', 'script.js'] }).rule).toBe('option-not-allowed');
    expect(refused({ command: 'node', args: ['--frobnicate', 'script.js'] }).rule).toBe('option-not-allowed');
  });

  test('node with a script in the workspace and harmless options is allowed', () => {
    expect(policy.evaluate({ command: 'node', args: ['--no-warnings', 'script.js', '--flag', 'value'] }, { dryRun: true }).allowed).toBe(true);
  });

  test('a policy may allow inline eval explicitly', () => {
    const permissive = createExecPolicy({ workspace: workspace.dir, allow: ['node'], allowInlineEval: true });
    expect(permissive.evaluate({ command: 'node', args: ['-e', '1'] }, { dryRun: true }).allowed).toBe(true);
  });

  test('find -exec is refused', () => {
    expect(refused({ command: 'find', args: ['.', '-exec', 'rm', '{}', ';'] }).rule).toBe('shell-syntax');
    expect(refused({ command: 'find', args: ['.', '-exec', 'rm', '{}', '+'] }).rule).toBe('wrapper');
  });
});

describe('paths are realpath-confined to the workspace', () => {
  test.each([
    ['cat', ['../../etc/passwd']],
    ['cat', ['/etc/passwd']],
    ['cat', ['escape/passwd']],
    ['cat', ['passwd-link']],
    ['head', ['--file=/etc/shadow']],
    ['node', ['/tmp/outside.js']],
    ['node', ['escape/hosts']],
  ])('%s %j is refused', (command, args) => {
    const refusal = refused({ command, args });
    expect(['path-outside-workspace', 'script-outside-workspace']).toContain(refusal.rule);
    expect(refusal.reason).toMatch(/outside the workspace/);
  });

  test('a symlink that leaves the workspace is named as such', () => {
    expect(refused({ command: 'cat', args: ['passwd-link'] }).reason).toMatch(/through a symlink/);
  });

  test('cwd outside the workspace, or through an escaping symlink, is refused', () => {
    expect(refused({ command: 'ls', cwd: '/' }).rule).toBe('cwd-outside-workspace');
    expect(refused({ command: 'ls', cwd: 'escape' }).rule).toBe('cwd-outside-workspace');
    expect(policy.evaluate({ command: 'ls', cwd: 'src' }, { dryRun: true }).allowed).toBe(true);
  });
});

describe('executables and environment', () => {
  test('executables off the allowlist are refused', () => {
    expect(refused({ command: 'curl', args: ['http://example.com'] }).rule).toBe('executable-not-allowed');
  });

  test('PATH hijack: a fake tsc early in the caller PATH is never found', () => {
    const fake = createWorkspaceFixture();
    const saved = process.env.PATH;
    try {
      fake.write('tsc', '#!/bin/sh\necho hijacked\n', 0o755);
      process.env.PATH = `${fake.dir}:${saved ?? ''}`;
      const onlySystem = createExecPolicy({ workspace: fake.dir, allow: ['tsc'], toolDirs: [] });
      const decision = onlySystem.evaluate({ command: 'tsc' }, { dryRun: true });
      expect(decision.allowed).toBe(false);
      if (!decision.allowed) expect(decision.reason).toMatch(/caller's PATH is never searched/);
      // The workspace's own tool dir is trusted; its file is what would run, not the PATH one.
      const plan = policy.evaluate({ command: 'tsc' }, { dryRun: true });
      expect(plan.allowed && plan.file).toBe(path.join(workspace.dir, 'node_modules/.bin/tsc'));
    } finally {
      process.env.PATH = saved;
      fake.remove();
    }
  });

  test('a world-writable workspace tool is refused as untrusted', () => {
    workspace.write('node_modules/.bin/cat', '#!/bin/sh\n', 0o777);
    fs.chmodSync(path.join(workspace.dir, 'node_modules/.bin/cat'), 0o777);
    expect(refused({ command: 'cat', args: ['script.js'] }).rule).toBe('untrusted-executable');
    fs.rmSync(path.join(workspace.dir, 'node_modules/.bin/cat'));
  });

  test.each([['LD_PRELOAD'], ['LD_LIBRARY_PATH'], ['NODE_OPTIONS'], ['PATH'], ['BASH_ENV'], ['DYLD_INSERT_LIBRARIES']])('env %s is refused', (name) => {
    expect(refused({ command: 'node', args: ['script.js'], env: { [name]: '/tmp/x' } }).rule).toBe('env-denied');
  });

  test('env names off the allowlist are refused; allowlisted ones pass', () => {
    expect(refused({ command: 'node', args: ['script.js'], env: { SECRET_TOKEN: 'x' } }).rule).toBe('env-not-allowed');
    const plan = policy.evaluate({ command: 'node', args: ['script.js'], env: { NODE_ENV: 'test' } }, { dryRun: true });
    expect(plan.allowed && plan.env).toEqual({ NODE_ENV: 'test' });
  });
});

describe('policy: read-only default, limits, dry run and counters', () => {
  test('write is refused until granted for the workspace', () => {
    const local = createExecPolicy({ workspace: workspace.dir, allow: ['node'] });
    expect(local.evaluate({ command: 'node', args: ['script.js'], write: true }, { dryRun: true })).toMatchObject({ allowed: false, rule: 'write-not-granted' });
    local.grantWrite();
    expect(local.evaluate({ command: 'node', args: ['script.js'], write: true }, { dryRun: true })).toMatchObject({ allowed: true, write: true });
    local.revokeWrite();
    expect(local.writeGranted).toBe(false);
  });

  test('requests may lower limits but not raise them', () => {
    const local = createExecPolicy({ workspace: workspace.dir, allow: ['node'], limits: { cpuSeconds: 10 } });
    expect(local.evaluate({ command: 'node', args: ['script.js'], limits: { cpuSeconds: 5 } })).toMatchObject({ allowed: true, limits: { cpuSeconds: 5 } });
    expect(local.evaluate({ command: 'node', args: ['script.js'], limits: { cpuSeconds: 50 } })).toMatchObject({ allowed: false, rule: 'limit-out-of-range' });
  });

  test('decisions are logged and counted, dry runs apart, and listeners hear each one', () => {
    const decisions = createDecisionRecorder();
    const heard: string[] = [];
    const unsubscribe = decisions.onDecision((decision) => heard.push(decision.outcome));
    const local = createExecPolicy({ workspace: workspace.dir, allow: ['node'], decisions });
    local.evaluate({ command: 'node', args: ['script.js'] });
    local.evaluate({ command: 'node', args: ['-e', '1'] });
    local.evaluate({ command: 'sh', args: ['-c', 'id'] });
    local.evaluate({ command: 'node', args: ['script.js'] }, { dryRun: true });
    unsubscribe();
    local.evaluate({ command: 'node', args: ['script.js'] });
    expect(heard).toEqual(['allowed', 'refused', 'refused', 'allowed']);
    expect(decisions.snapshot()).toEqual({
      allowed: 2,
      refused: 2,
      killed: 0,
      dryRuns: 1,
      refusedByRule: { 'inline-eval': 1, shell: 1 },
      killedByLimit: {},
    });
  });

  test('a missing workspace is a clear error', () => {
    expect(() => createExecPolicy({ workspace: '/does/not/exist', allow: [] })).toThrow(/workspace "\/does\/not\/exist" is not an existing directory/);
  });
});
