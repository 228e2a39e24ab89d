// The process sandbox's half of the attack battery: commands really run, and each attack is
// refused or contained. Tests that need bubblewrap skip, saying why, where it is missing.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createProcessSandbox, detectIsolation, type ProcessResult, type ProcessRunOutcome, type ProcessSandbox } from '@agentmesh/sandbox';
import { createWorkspaceFixture, type WorkspaceFixture } from './workspace-fixture';

const isolation = detectIsolation({ docker: false });
const hasBubblewrap = isolation.bubblewrap.available;
if (!hasBubblewrap) console.warn(`skipping bubblewrap tests: ${isolation.bubblewrap.reason}`);
const describeBubblewrap = hasBubblewrap ? describe : describe.skip;

let workspace: WorkspaceFixture;

beforeAll(() => {
  workspace = createWorkspaceFixture();
  workspace.write('hello.js', 'console.log("hello", process.argv.slice(2).join(","))');
  workspace.write('env.js', 'console.log(JSON.stringify(process.env))');
  workspace.write('evil.js', 'console.log("PRELOADED")');
  workspace.write('a.txt', 'alpha\n');
  workspace.write('loop.js', 'for (;;) {}');
  workspace.write('flood.js', 'const line = "x".repeat(1023) + "\\n"; for (;;) process.stdout.write(line);');
  workspace.write('alloc.js', 'const keep = []; for (;;) keep.push(Buffer.alloc(64 * 1024 * 1024, 1)); ');
  workspace.write(
    'bomb.js',
    `const { spawn } = require('node:child_process');
     let started = 0, failed = 0;
     for (let i = 0; i < 300; i++) {
       try { const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 3000)'], { stdio: 'ignore' }); c.on('error', () => failed++); started++; }
       catch { failed++; }
     }
     setTimeout(() => { console.log(JSON.stringify({ started, failed })); process.exit(0); }, 800);`,
  );
  workspace.write('connect.js', `const s = require('node:net').connect(Number(process.argv[2]), '127.0.0.1');
     s.on('connect', () => { console.log('CONNECTED'); s.end(); });
     s.on('error', (e) => console.log('ERROR ' + e.code));`);
  workspace.write('write.js', `require('node:fs').writeFileSync('out.txt', 'written'); console.log('wrote');`);
  workspace.write('big-file.js', `require('node:fs').writeFileSync(process.argv[2], Buffer.alloc(4 * 1024 * 1024));`);
  fs.symlinkSync('/etc/passwd', path.join(workspace.dir, 'passwd-link'));
});
afterAll(() => workspace.remove());

function ran(outcome: ProcessRunOutcome): ProcessResult {
  if (!outcome.allowed) throw new Error(`expected the run to be allowed: ${outcome.rule}: ${outcome.reason}`);
  return outcome;
}

function sandboxes(): [string, () => ProcessSandbox][] {
  const make = (mode: 'none' | 'bubblewrap') => () =>
    createProcessSandbox({ policy: { workspace: workspace.dir, allow: ['node', 'head', 'cat'] }, isolation: mode });
  return hasBubblewrap ? [['plain', make('none')], ['bubblewrap', make('bubblewrap')]] : [['plain', make('none')]];
}

describe.each(sandboxes())('%s process sandbox', (_name, make) => {
  let sandbox: ProcessSandbox;
  beforeAll(() => {
    sandbox = make();
  });

  test('runs an allowed command as argv and captures its output', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['hello.js', 'a b', ';', 'c'].filter((arg) => arg !== ';') }));
    expect(result).toMatchObject({ ok: true, exitCode: 0, stdout: 'hello a b,c\n' });
  });

  test('globs and $HOME are passed literally, never expanded', async () => {
    const result = ran(await sandbox.run({ command: 'head', args: ['*', '$HOME/.ssh/id_rsa'] }));
    expect(result.ok).toBe(false);
    expect(result.stdout).not.toContain('alpha');
    expect(result.stderr).toContain("'*'");
    expect(result.stderr).toContain('$HOME/.ssh/id_rsa');
  });

  test('the environment is cleared: caller LD_PRELOAD, NODE_OPTIONS and PATH never reach the child', async () => {
    const saved = { ...process.env };
    process.env.NODE_OPTIONS = `--require ${path.join(workspace.dir, 'evil.js')}`;
    process.env.LD_PRELOAD = '/tmp/does-not-exist.so';
    process.env.PATH = `/tmp/hijack:${saved.PATH ?? ''}`;
    process.env.SECRET_TOKEN = 'hunter2';
    try {
      const result = ran(await sandbox.run({ command: 'node', args: ['env.js'], env: { NODE_ENV: 'test' } }));
      expect(result.stdout).not.toContain('PRELOADED');
      const env = JSON.parse(result.stdout) as Record<string, string>;
      expect(env.NODE_OPTIONS).toBeUndefined();
      expect(env.LD_PRELOAD).toBeUndefined();
      expect(env.SECRET_TOKEN).toBeUndefined();
      expect(env.PATH).toBe('/usr/local/bin:/usr/bin:/bin');
      expect(env.NODE_ENV).toBe('test');
    } finally {
      process.env = saved;
    }
  });

  test('a symlink out of the workspace is refused before running', async () => {
    const outcome = await sandbox.run({ command: 'cat', args: ['passwd-link'] });
    expect(outcome).toMatchObject({ allowed: false, rule: 'path-outside-workspace' });
  });

  test('an infinite loop is stopped by the CPU limit', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['loop.js'], limits: { cpuSeconds: 1, wallTimeoutMs: 10_000 } }));
    expect(result.ok).toBe(false);
    expect(result.killedBy).toBe('cpu');
    expect(result.signal).toBe('SIGXCPU');
  });

  test('the wall timeout kills the process group', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['loop.js'], limits: { wallTimeoutMs: 500 } }));
    expect(result.killedBy).toBe('timeout');
    expect(result.durationMs).toBeLessThan(5_000);
  });

  test('an output flood is capped with a clear truncation marker', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['flood.js'], limits: { maxOutputBytes: 10_000, wallTimeoutMs: 700 } }));
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stdout.length).toBeLessThan(11_000);
    expect(result.stdout).toMatch(/\[agentmesh-sandbox: stdout truncated at 10000 bytes; \d+ more bytes dropped\]/);
  });

  test('a huge allocation fails against the address-space limit', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['alloc.js'], limits: { addressSpaceBytes: 3 * 1024 ** 3, wallTimeoutMs: 15_000 } }));
    expect(result.ok).toBe(false);
    expect(result.killedBy).toBe('memory');
  });

  test('a file larger than the file-size limit is stopped', async () => {
    const local = make();
    local.policy.grantWrite();
    const result = ran(await local.run({ command: 'node', args: ['big-file.js', 'big.bin'], write: true, limits: { fileSizeBytes: 1024 * 1024 } }));
    expect(result.killedBy).toBe('file-size');
    fs.rmSync(result.scratchDir!, { recursive: true, force: true });
  });

  test('read-only by default: a write request without a grant is refused', async () => {
    expect(await sandbox.run({ command: 'node', args: ['write.js'], write: true })).toMatchObject({ allowed: false, rule: 'write-not-granted' });
  });

  test('granted writes go to a scratch copy, never the workspace', async () => {
    const local = make();
    local.policy.grantWrite();
    const result = ran(await local.run({ command: 'node', args: ['write.js'], write: true }));
    expect(result).toMatchObject({ ok: true, stdout: 'wrote\n' });
    expect(fs.readFileSync(path.join(result.scratchDir!, 'out.txt'), 'utf8')).toBe('written');
    expect(fs.existsSync(path.join(workspace.dir, 'out.txt'))).toBe(false);
    fs.rmSync(result.scratchDir!, { recursive: true, force: true });
  });

  test('dry run says what would run, with which limits, without running it', () => {
    const dry = sandbox.dryRun({ command: 'node', args: ['write.js'] });
    expect(dry.allowed).toBe(true);
    if (!dry.allowed) return;
    expect(dry.spawn.args).toContain(fs.realpathSync('/usr/bin/node'));
    expect(dry.limits.cpuSeconds).toBeGreaterThan(0);
    expect(dry.reasons.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(workspace.dir, 'out.txt'))).toBe(false);
    expect(sandbox.dryRun({ command: 'sh', args: ['-c', 'id'] })).toMatchObject({ allowed: false, rule: 'shell' });
  });

  test('kills are counted by limit', () => {
    const counts = sandbox.decisions.snapshot();
    expect(counts.killedByLimit.cpu).toBeGreaterThanOrEqual(1);
    expect(counts.killedByLimit.timeout).toBeGreaterThanOrEqual(1);
    expect(counts.refusedByRule['path-outside-workspace']).toBeGreaterThanOrEqual(1);
  });
});

test('without bubblewrap every result carries the reduced-isolation warning', async () => {
  const sandbox = createProcessSandbox({ policy: { workspace: workspace.dir, allow: ['node'] }, isolation: 'none' });
  const result = ran(await sandbox.run({ command: 'node', args: ['hello.js'] }));
  expect(result.isolation).toBe('none');
  expect(result.warnings.join(' ')).toMatch(/REDUCED ISOLATION/);
});

test('detectIsolation reports each mechanism with a reason', () => {
  const report = detectIsolation({ docker: false });
  for (const key of ['bubblewrap', 'prlimit', 'unprivilegedUser', 'isolatedVm'] as const) {
    expect(typeof report[key].available).toBe('boolean');
    expect(report[key].reason.length).toBeGreaterThan(0);
  }
  expect(report.summary).toMatch(/process sandbox/);
});

describeBubblewrap('bubblewrap containment', () => {
  let sandbox: ProcessSandbox;
  beforeAll(() => {
    sandbox = createProcessSandbox({ policy: { workspace: workspace.dir, allow: ['node', 'cat'] }, isolation: 'bubblewrap' });
  });

  test('network egress: a TCP connect to a listener on 127.0.0.1 fails inside the sandbox', async () => {
    const connections: net.Socket[] = [];
    const server = net.createServer((socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const result = ran(await sandbox.run({ command: 'node', args: ['connect.js', String(port)] }));
      expect(result.stdout).toMatch(/ERROR (ECONNREFUSED|ENETUNREACH)/);
      expect(result.stdout).not.toContain('CONNECTED');
      expect(connections).toHaveLength(0);
      // The same script outside the sandbox does connect, so the test itself is sound.
      const plain = createProcessSandbox({ policy: { workspace: workspace.dir, allow: ['node'] }, isolation: 'none' });
      expect(ran(await plain.run({ command: 'node', args: ['connect.js', String(port)] })).stdout).toContain('CONNECTED');
    } finally {
      for (const socket of connections) socket.destroy();
      server.close();
    }
  });

  test('a fork bomb hits the process limit', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['bomb.js'], limits: { maxProcesses: 40, wallTimeoutMs: 10_000 } }));
    const report = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as { started: number; failed: number };
    expect(report.failed).toBeGreaterThan(0);
  });

  test('the workspace is read-only and system files outside it are not there', async () => {
    const result = ran(await sandbox.run({ command: 'node', args: ['write.js'] }));
    expect(result.ok).toBe(false);
    expect(result.stderr).toMatch(/EROFS|EACCES/);
    workspace.write('read-shadow.js', `try { require('node:fs').readFileSync('/etc/shadow'); console.log('READ'); } catch (e) { console.log(e.code); }`);
    expect(ran(await sandbox.run({ command: 'node', args: ['read-shadow.js'] })).stdout.trim()).toBe('ENOENT');
  });
});
