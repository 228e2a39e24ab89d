/**
 * Starts bench servers in child processes, so the load generator never shares
 * an event loop with what it measures. A child announces its port as a JSON
 * line on stdout (servers/ready.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** A running child server. */
export interface ChildServer {
  readonly port: number;
  readonly address: string;
  readonly child: ChildProcess;
  /** Sends one line on the child's stdin and resolves with its next JSON line. */
  command(line: string): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Options of startChildServer. */
export interface ChildServerOptions {
  /** Milliseconds to wait for the ready line (default 15 s). */
  readyTimeoutMs?: number;
}

/** Spawns `node dist/servers/<script> ...args` and waits for its ready line. */
export function startChildServer(script: string, args: string[] = [], options: ChildServerOptions = {}): Promise<ChildServer> {
  const file = path.join(__dirname, 'servers', script);
  const child = spawn(process.execPath, [file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.BENCH_SERVER_LOG_LEVEL ?? 'silent' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lineWaiters: ((line: Record<string, unknown>) => void)[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let index: number;
    while ((index = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, index);
      buffered = buffered.slice(index + 1);
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        lineWaiters.shift()?.(parsed);
      } catch {
        // not ours: a stray log line
      }
    }
  });
  const nextLine = () => new Promise<Record<string, unknown>>((resolve) => lineWaiters.push(resolve));
  return new Promise<ChildServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench server ${script} ${args.join(' ')} did not announce a port within ${options.readyTimeoutMs ?? 15000} ms; stderr: ${stderr}`));
    }, options.readyTimeoutMs ?? 15000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench server ${script} ${args.join(' ')} exited with ${code} before it was ready; stderr: ${stderr}`));
    });
    nextLine().then((ready) => {
      clearTimeout(timer);
      if (ready.benchReady !== true || typeof ready.port !== 'number') {
        child.kill('SIGKILL');
        return reject(new Error(`bench server ${script} announced ${JSON.stringify(ready)}, not a port`));
      }
      const port = ready.port;
      child.removeAllListeners('exit');
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        child,
        command(line: string) {
          const reply = nextLine();
          child.stdin!.write(`${line}\n`);
          return reply;
        },
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 2000).unref();
          }),
      });
    });
  });
}
