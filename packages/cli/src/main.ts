#!/usr/bin/env node
/**
 * The agentmesh command. Subcommands: serve, run, demo, doctor, smoke.
 */
import './check-log-level';
import { parseArgs } from 'node:util';
import { runDemo } from './demo';
import { runDoctor } from './doctor';
import { runCommand } from './run-command';
import { serve } from './serve';
import { parseTransport, SettingError } from './settings';
import { loadServiceConfig, serveFlagOptions } from './service-config';
import { runSmoke } from './smoke';
import { checkHealth } from './health-check';

const usage = `usage: agentmesh <command> [options]

commands:
  serve <planner|coder|validator|all> [--config file.json] [--host 127.0.0.1] [--port 0]
        [--grpc-port 0] [--unary-port 0] [--rest-port 0] [--metrics-port N] [--validator host:port]
        [--grace-ms 5000] [--log-level info] [--announce]
                                  run agents on a mesh port (the planner probes through --validator);
                                  the grpc port serves grpc.health.v1 and reflection, /metrics its own port
  health <host:port> [--service name] [--timeout-ms 2000]
                                  grpc.health.v1 Check: exit 0 when SERVING (for container healthchecks)
  run <repo> [--goal typecheck|tests] [--tasks tasks.md] [--apply] [--json report.json]
             [--transport mesh|grpc|unary|rest|rest-nokeepalive] [--no-probes] [--no-validators]
             [--compare] [--patch-out file] [--planner|--coder|--validator host:port]
                                  repair a repository (agents without an address run in-process)
  demo [--keep] [--json report.json] [--transport mesh|grpc|unary|rest|rest-nokeepalive]
                                  the three agents as processes repair a copy of examples/broken-repo
  doctor                          which sandbox isolation is available here, and why not
  smoke                           two services, calls between them

environment: AGENTMESH_PLANNER_ADDR, AGENTMESH_CODER_ADDR, AGENTMESH_VALIDATOR_ADDR (host:port), LOG_LEVEL,
  serve: AGENTMESH_CONFIG, AGENTMESH_HOST, AGENTMESH_PORT, AGENTMESH_GRPC_PORT, AGENTMESH_UNARY_PORT,
  AGENTMESH_REST_PORT, AGENTMESH_METRICS_PORT, AGENTMESH_UPSTREAM_ADDR, AGENTMESH_GRACE_MS;
  tracing (off by default): OTEL_TRACES_EXPORTER=otlp|console, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME
`;

/** Exits with code 2 and one clear line, as every bad option should. */
function fail(message: string): never {
  process.stderr.write(`agentmesh: ${message}\n${usage}`);
  process.exit(2);
}

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, allowPositionals: true, options: options! });
  } catch (error) {
    fail((error as Error).message);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const print = (line: string) => process.stdout.write(line + '\n');
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(usage);
    return 0;
  }
  switch (command) {
    case 'serve': {
      const parsed = parse(rest, serveFlagOptions);
      const config = loadServiceConfig(parsed.positionals[0], parsed.values as Record<string, string | boolean | undefined>);
      return serve(config);
    }
    case 'run': {
      const parsed = parse(rest, {
        goal: { type: 'string' },
        tasks: { type: 'string' },
        apply: { type: 'boolean', default: false },
        json: { type: 'string' },
        transport: { type: 'string' },
        'no-probes': { type: 'boolean', default: false },
        'no-validators': { type: 'boolean', default: false },
        compare: { type: 'boolean', default: false },
        'patch-out': { type: 'string' },
        planner: { type: 'string' },
        coder: { type: 'string' },
        validator: { type: 'string' },
      });
      const values = parsed.values as Record<string, string | boolean | undefined>;
      const repo = parsed.positionals[0];
      if (!repo) fail('run needs a repository directory');
      return runCommand(
        {
          repo,
          goal: values.goal as string | undefined,
          tasks: values.tasks as string | undefined,
          apply: values.apply as boolean,
          json: values.json as string | undefined,
          transport: values.transport as string | undefined,
          probes: !values['no-probes'],
          validators: !values['no-validators'],
          compare: values.compare as boolean,
          patchOut: values['patch-out'] as string | undefined,
          planner: values.planner as string | undefined,
          coder: values.coder as string | undefined,
          validator: values.validator as string | undefined,
        },
        print,
      );
    }
    case 'demo': {
      const parsed = parse(rest, { keep: { type: 'boolean', default: false }, json: { type: 'string' }, transport: { type: 'string' } });
      const transport = parseTransport(parsed.values.transport as string | undefined);
      return runDemo(print, { keep: parsed.values.keep as boolean, json: parsed.values.json as string | undefined, transport });
    }
    case 'health': {
      const parsed = parse(rest, { service: { type: 'string', default: '' }, 'timeout-ms': { type: 'string', default: '2000' } });
      const target = parsed.positionals[0];
      if (!target) fail('health needs the host:port of an agent\'s grpc port');
      const timeoutMs = Number(parsed.values['timeout-ms']);
      if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) fail(`--timeout-ms must be a positive integer, got "${String(parsed.values['timeout-ms'])}"`);
      try {
        const status = await checkHealth(target, parsed.values.service as string, timeoutMs);
        print(status);
        return status === 'SERVING' ? 0 : 1;
      } catch (error) {
        process.stderr.write(`agentmesh: health check of ${target} failed: ${(error as Error).message}\n`);
        return 1;
      }
    }
    case 'doctor':
      return runDoctor(print);
    case 'smoke':
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
    if (error instanceof SettingError) {
      // A bad setting is one line: what it is, where it came from, what is allowed.
      process.stderr.write(`agentmesh: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`agentmesh: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
