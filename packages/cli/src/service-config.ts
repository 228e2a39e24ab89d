/**
 * The one typed configuration of `agentmesh serve`: every setting from a flag,
 * else an environment variable, else an optional JSON file (--config or
 * AGENTMESH_CONFIG), else its default; each checked at start with zod. A bad
 * value is one line naming where it came from and what is allowed (exit code 2).
 */
import * as fs from 'node:fs';
import { z } from 'zod';
import { parseAddress, SettingError } from './settings';

/** The services `serve` can run. */
export const serveServices = ['planner', 'coder', 'validator', 'all', 'echo', 'relay'] as const;

/** pino's levels, as LOG_LEVEL accepts them. */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The checked configuration of one service process. */
export interface ServiceConfig {
  service: (typeof serveServices)[number];
  host: string;
  /** Mesh port (0: any free port). */
  port: number;
  /** Native gRPC port, where health and reflection are served too. */
  grpcPort: number;
  unaryPort: number;
  restPort: number;
  /** HTTP /metrics port; undefined: no metrics endpoint. */
  metricsPort: number | undefined;
  /** The validator the planner probes through. */
  validator: string | undefined;
  /** The echo upstream of the smoke job's relay. */
  upstream: string | undefined;
  graceMs: number;
  logLevel: (typeof logLevels)[number];
  announce: boolean;
}

type Key = Exclude<keyof ServiceConfig, 'service' | 'announce'>;

interface Field {
  key: Key;
  flag: string;
  env: string;
  /** What is allowed, for the error line. */
  allowed: string;
  schema: z.ZodType;
  fallback: unknown;
}

const port = z.coerce.number().int().min(0).max(65535);
const portText = 'an integer from 0 to 65535';

/** Every setting with its flag, variable and rule. */
export const serviceConfigFields: readonly Field[] = [
  { key: 'host', flag: '--host', env: 'AGENTMESH_HOST', allowed: 'a host name or IP address', schema: z.string().regex(/^[A-Za-z0-9.:[\]-]+$/), fallback: '127.0.0.1' },
  { key: 'port', flag: '--port', env: 'AGENTMESH_PORT', allowed: portText, schema: port, fallback: 0 },
  { key: 'grpcPort', flag: '--grpc-port', env: 'AGENTMESH_GRPC_PORT', allowed: portText, schema: port, fallback: 0 },
  { key: 'unaryPort', flag: '--unary-port', env: 'AGENTMESH_UNARY_PORT', allowed: portText, schema: port, fallback: 0 },
  { key: 'restPort', flag: '--rest-port', env: 'AGENTMESH_REST_PORT', allowed: portText, schema: port, fallback: 0 },
  { key: 'metricsPort', flag: '--metrics-port', env: 'AGENTMESH_METRICS_PORT', allowed: portText, schema: port.optional(), fallback: undefined },
  { key: 'validator', flag: '--validator', env: 'AGENTMESH_VALIDATOR_ADDR', allowed: 'host:port', schema: z.string(), fallback: undefined },
  { key: 'upstream', flag: '--upstream', env: 'AGENTMESH_UPSTREAM_ADDR', allowed: 'host:port', schema: z.string(), fallback: undefined },
  { key: 'graceMs', flag: '--grace-ms', env: 'AGENTMESH_GRACE_MS', allowed: 'an integer number of milliseconds from 0 to 600000', schema: z.coerce.number().int().min(0).max(600_000), fallback: 5000 },
  { key: 'logLevel', flag: '--log-level', env: 'LOG_LEVEL', allowed: `one of ${logLevels.join(', ')}`, schema: z.enum(logLevels), fallback: 'info' },
];

/** The flags `serve` takes, for parseArgs. */
export const serveFlagOptions = {
  ...Object.fromEntries(serviceConfigFields.map((field) => [field.flag.slice(2), { type: 'string' as const }])),
  config: { type: 'string' as const },
  announce: { type: 'boolean' as const, default: false },
};

/** The JSON file's shape: the same keys as ServiceConfig, all optional, nothing else. */
const fileSchema = z.object(Object.fromEntries(serviceConfigFields.map((field) => [field.key, z.union([z.string(), z.number()]).optional()]))).strict();

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new SettingError(`--config must name a readable JSON file, got "${path}" (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SettingError(`--config must be a JSON object, got invalid JSON in "${path}": ${(error as Error).message}`);
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    const keys = serviceConfigFields.map((field) => field.key).join(', ');
    if (issue.code === 'unrecognized_keys') throw new SettingError(`${path}: "${issue.keys[0]}" is not a setting; allowed keys are ${keys}`);
    throw new SettingError(`${path}${issue.path.length ? ` ${issue.path.join('.')}` : ''} must be ${issue.path.length ? 'a string or a number' : `a JSON object with keys among ${keys}`}`);
  }
  return result.data as Record<string, unknown>;
}

/**
 * Resolves and checks the configuration of `serve <service>`: flags win over
 * the environment, which wins over the file. Throws SettingError on the first bad value.
 */
export function loadServiceConfig(service: string | undefined, flags: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  if (!service) throw new SettingError(`serve needs a service name: one of ${serveServices.join(', ')}`);
  if (!(serveServices as readonly string[]).includes(service)) throw new SettingError(`serve's service must be one of ${serveServices.join(', ')}, got "${service}"`);
  const configPath = (flags.config as string | undefined) ?? (env.AGENTMESH_CONFIG || undefined);
  const file = configPath ? readFile(configPath) : {};
  const config: Record<string, unknown> = { service, announce: flags.announce === true };
  for (const field of serviceConfigFields) {
    const flagValue = flags[field.flag.slice(2)];
    const envValue = env[field.env];
    const [source, raw] =
      flagValue !== undefined
        ? [field.flag, flagValue]
        : envValue !== undefined && envValue !== ''
          ? [field.env, envValue]
          : file[field.key] !== undefined
            ? [`${configPath} ${field.key}`, file[field.key]]
            : [undefined, undefined];
    if (source === undefined) {
      config[field.key] = field.fallback;
      continue;
    }
    const text = String(raw).trim();
    if (field.allowed === 'host:port') {
      config[field.key] = parseAddress(source, text);
      continue;
    }
    const result = field.schema.safeParse(text === '' ? undefined : text);
    if (!result.success || result.data === undefined) throw new SettingError(`${source} must be ${field.allowed}, got "${String(raw)}"`);
    config[field.key] = result.data;
  }
  const checked = config as unknown as ServiceConfig;
  if ((service === 'planner') && !checked.validator) {
    throw new SettingError('serve planner needs --validator host:port or AGENTMESH_VALIDATOR_ADDR: the planner probes through the validator');
  }
  if (service === 'relay' && !checked.upstream) throw new SettingError('serve relay needs --upstream host:port or AGENTMESH_UPSTREAM_ADDR');
  return checked;
}
