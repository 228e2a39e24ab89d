#!/usr/bin/env node
/**
 * The agentmesh command. Subcommands: serve, smoke, demo, run, doctor.
 */
import { parseArgs } from 'node:util';
import { runSmoke } from './smoke';
import { serve } from './serve';

const usage = `usage: agentmesh <command> [options]

commands:
  serve <service> [--host 127.0.0.1] [--port 0] [--upstream host:port]   run a service
  smoke                                                                   two services, calls between them
  demo                                                                    the main job
`;

/** Exits with code 2 and one clear line, as every bad option should. */
function fail(message: string): never {
  process.stderr.write(`agentmesh: ${message}\n${usage}`);
  process.exit(2);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const print = (line: string) => process.stdout.write(line + '\n');
  switch (command) {
    case 'serve': {
      let parsed;
      try {
        parsed = parseArgs({
          args: rest,
          allowPositionals: true,
          options: {
            host: { type: 'string', default: '127.0.0.1' },
            port: { type: 'string', default: '0' },
            upstream: { type: 'string' },
            announce: { type: 'boolean', default: false },
            'grace-ms': { type: 'string', default: '5000' },
          },
        });
      } catch (error) {
        fail((error as Error).message);
      }
      const port = Number(parsed.values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be an integer from 0 to 65535, got "${parsed.values.port}"`);
      const graceMs = Number(parsed.values['grace-ms']);
      if (!Number.isInteger(graceMs) || graceMs < 0) fail(`--grace-ms must be a non-negative integer, got "${parsed.values['grace-ms']}"`);
      const service = parsed.positionals[0];
      if (!service) fail('serve needs a service name');
      return serve({ service, host: parsed.values.host!, port, announce: parsed.values.announce!, upstream: parsed.values.upstream, graceMs });
    }
    case 'smoke':
    case 'demo':
      return runSmoke(print);
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(usage);
      return 0;
    default:
      fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`agentmesh: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
