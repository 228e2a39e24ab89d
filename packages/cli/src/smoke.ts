/**
 * The mesh smoke job: two services in two OS processes, calls between them,
 * a printed account of what happened. It proves the mesh end to end on a fresh
 * clone without any agent.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { firstValueFrom, toArray } from 'rxjs';
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { createMeshClient } from '@agentmesh/runtime';

/** A started child service and the address it bound. */
export interface ChildService {
  name: string;
  /** The mesh address. */
  address: string;
  /** Address by transport name, as the service announced them. */
  addresses: Record<string, string>;
  process: ChildProcess;
}

/**
 * Starts `agentmesh serve ...` as a child process and waits for its "listening"
 * line, so callers get a real address, never a guessed port.
 */
export function startChildService(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildService> {
  const main = path.join(__dirname, 'main.js');
  const child = spawn(process.execPath, [main, 'serve', ...args, '--port', '0', '--announce'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env },
  });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s`)), 20_000);
    lines.on('line', (line) => {
      try {
        const message = JSON.parse(line) as { announce?: string; address?: string; addresses?: Record<string, string> };
        if (message.announce === 'listening' && message.address) {
          clearTimeout(timer);
          resolve({ name, address: message.address, addresses: message.addresses ?? { mesh: message.address }, process: child });
        }
      } catch {
        // a log line, not the announcement
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code} before it was listening`));
    });
  });
}

/** Stops a child service with SIGTERM, and SIGKILL if it lingers. */
export function stopChildService(service: ChildService): Promise<void> {
  return new Promise((resolve) => {
    if (service.process.exitCode !== null || service.process.signalCode !== null) return resolve();
    const timer = setTimeout(() => service.process.kill('SIGKILL'), 5_000);
    service.process.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    service.process.kill('SIGTERM');
  });
}

/** Runs the smoke job; resolves with the process exit code. */
export async function runSmoke(print: (line: string) => void): Promise<number> {
  print('agentmesh smoke: starting an echo service and a relay service as separate processes');
  const echo = await startChildService('echo', ['echo']);
  const relay = await startChildService('relay', ['relay', '--upstream', echo.address]);
  print(`  echo  listening on ${echo.address} (pid ${echo.process.pid})`);
  print(`  relay listening on ${relay.address} (pid ${relay.process.pid}), forwarding to echo over one mesh stream`);
  const mesh = createMeshClient({ identity: 'smoke' });
  try {
    const client = mesh.client(EchoServiceDefinition, relay.address);
    const started = process.hrtime.bigint();
    const unary = await client.echo({ payload: Buffer.from('hello through two processes') });
    print(`  unary   relay -> echo: "${unary.payload.toString()}" (via ${unary.receivedMetadata['x-relayed-by'] ?? '?'})`);
    const events = await firstValueFrom(client.count({ count: 5 }).pipe(toArray()));
    print(`  stream  relay -> echo: ${events.length} events, indexes ${events.map((e) => e.index).join(',')}`);
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => client.echo({ payload: Buffer.from(String(i)) })));
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    print(`  200 concurrent calls multiplexed: all answered (${many.length}), ${elapsedMs.toFixed(1)} ms for everything`);
    print(`  sessions: smoke -> relay ${mesh.session(relay.address).sessionId}`);
    print('smoke: OK');
    return 0;
  } catch (error) {
    print(`smoke: FAILED: ${(error as Error).message}`);
    return 1;
  } finally {
    await mesh.close();
    await Promise.all([stopChildService(relay), stopChildService(echo)]);
    print('  both services stopped');
  }
}
