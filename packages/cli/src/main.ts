#!/usr/bin/env node
/**
 * The agentmesh command. Subcommands: serve, run, demo, doctor, smoke.
 */
import { parseArgs } from 'node:util';
import { runDemo } from './demo';
import { runDoctor } from './doctor';
import { runCommand } from './run-command';
import { serve } from './serve';
import { agentAddress, parsePort, parseTransport, SettingError } from './settings';
import { runSmoke } from './smoke';

const usage = `usage: agentmesh <command> [options]

commands:
  serve <planner|coder|validator|all> [--host 127.0.0.1] [--port 0] [--validator host:port]
                                  run agents on a mesh port (the planner probes through --validator)
  run <repo> [--goal typecheck|tests] [--tasks tasks.md] [--apply] [--json report.json]
             [--transport mesh|grpc|unary|rest|rest-nokeepalive] [--no-probes] [--no-validators]
             [--compare] [--patch-out file] [--planner|--coder|--validator host:port]
                                  repair a repository (agents without an address run in-process)
  demo [--keep] [--json report.json] [--transport mesh|grpc|unary|rest|rest-nokeepalive]
                                  the three agents as processes repair a copy of examples/broken-repo
  doctor                          which sandbox isolation is available here, and why not
  smoke                           two services, calls between them

environment: AGENTMESH_PLANNER_ADDR, AGENTMESH_CODER_ADDR, AGENTMESH_VALIDATOR_ADDR (host:port), LOG_LEVEL
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
  switch (command) {
    case 'serve': {
      const parsed = parse(rest, {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '0' },
        upstream: { type: 'string' },
        validator: { type: 'string' },
        announce: { type: 'boolean', default: false },
        'grace-ms': { type: 'string', default: '5000' },
      });
      const values = parsed.values as Record<string, string | boolean | undefined>;
      const port = parsePort(values.port as string);
      const graceMs = Number(values['grace-ms']);
      if (!Number.isInteger(graceMs) || graceMs < 0) fail(`--grace-ms must be a non-negative integer, got "${String(values['grace-ms'])}"`);
      const service = parsed.positionals[0];
      if (!service) fail('serve needs a service name: planner, coder, validator or all');
      const validator = service === 'planner' || service === 'all' ? agentAddress('validator', values.validator as string | undefined) : undefined;
      if (service === 'planner' && !validator) fail('serve planner needs --validator host:port or AGENTMESH_VALIDATOR_ADDR: the planner probes through the validator');
      return serve({ service, host: values.host as string, port, announce: values.announce as boolean, upstream: values.upstream as string | undefined, validator, graceMs });
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
    if (error instanceof SettingError) fail(error.message);
    process.stderr.write(`agentmesh: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
