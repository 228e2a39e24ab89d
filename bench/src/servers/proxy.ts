/**
 * Bench child: the runtime's TCP proxy in its own process (so its work does not
 * share the load generator's event loop). argv: targetPort [oneWayMs]. Reads
 * commands on stdin: `delay <ms>`; answers each with a JSON line.
 */
import { createTcpProxy } from '../runtime-api';
import { announceReady } from './ready';

async function main(): Promise<void> {
  const targetPort = Number(process.argv[2]);
  if (!Number.isInteger(targetPort) || targetPort <= 0) throw new Error(`proxy: target port must be a positive integer, got "${process.argv[2]}"`);
  const proxy = await createTcpProxy({ target: { host: '127.0.0.1', port: targetPort }, delayMs: Number(process.argv[3] ?? 0) });
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    let index: number;
    while ((index = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, index).trim();
      buffered = buffered.slice(index + 1);
      const [command, value] = line.split(/\s+/);
      if (command === 'delay') {
        proxy.setDelay(Number(value));
        process.stdout.write(`${JSON.stringify({ ok: true, delayMs: Number(value) })}\n`);
      } else process.stdout.write(`${JSON.stringify({ ok: false, error: `unknown command "${line}"` })}\n`);
    }
  });
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  announceReady(proxy.port, { proxyFor: targetPort });
}

main().catch((error) => {
  process.stderr.write(`proxy failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
