/**
 * Bench child: serves EchoService over the transport named in argv[2]
 * (see transport-table.ts) and announces its port.
 */
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { createEchoService } from '@agentmesh/runtime';
import { echoTransports } from '../transport-table';
import { announceReady, exitWithParent } from './ready';

async function main(): Promise<void> {
  const name = process.argv[2];
  const entry = echoTransports[name];
  if (!entry) throw new Error(`echo-server: unknown transport "${name}"; known: ${Object.keys(echoTransports).join(', ')}`);
  const server = entry.serve();
  // The runtime's reference echo handlers, the same ones its tests run: no think time unless a request asks.
  server.register(EchoServiceDefinition, createEchoService() as never);
  const port = await server.listen('127.0.0.1:0');
  exitWithParent();
  announceReady(port, { transport: name });
}

main().catch((error) => {
  process.stderr.write(`echo-server failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
