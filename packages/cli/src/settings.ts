/**
 * Peer addresses and other settings from flags and the environment, checked once at start:
 * a bad value is one clear line naming the setting (and exit code 2), never a late failure.
 */

/** A setting that cannot be used; main prints its message and exits with code 2. */
export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

/** The environment variable that names each agent's address. */
export const addressVariables = {
  planner: 'AGENTMESH_PLANNER_ADDR',
  coder: 'AGENTMESH_CODER_ADDR',
  validator: 'AGENTMESH_VALIDATOR_ADDR',
} as const;

/** The transports the conductor and the CLI accept. */
export const transportNames = ['mesh', 'grpc', 'unary', 'rest', 'rest-nokeepalive'] as const;

/**
 * Checks a "host:port" value and returns it normalised; `setting` names the flag or variable in the error.
 * `dns:///host:port` is kept as it is: gRPC resolves every address of the name (replicas behind round-robin).
 */
export function parseAddress(setting: string, value: string): string {
  const match = /^(dns:\/\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port < 1 || port > 65535) throw new SettingError(`${setting} must be host:port with a port from 1 to 65535, got "${value}"`);
  return `${match[1] ?? ''}${match[2]}:${port}`;
}

/** gRPC channel options that spread a dns:/// name's addresses round-robin instead of pick-first. */
export const roundRobinChannelOptions = {
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
} as const;

/** The address of one agent from its flag, else its environment variable, else undefined. */
export function agentAddress(agent: keyof typeof addressVariables, flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined) return parseAddress(`--${agent}`, flag);
  const value = env[addressVariables[agent]];
  if (value === undefined || value === '') return undefined;
  return parseAddress(addressVariables[agent], value);
}

/** Checks a --transport value. */
export function parseTransport(value: string | undefined): (typeof transportNames)[number] {
  const name = value ?? 'mesh';
  if (!(transportNames as readonly string[]).includes(name)) throw new SettingError(`--transport must be one of ${transportNames.join(', ')}, got "${name}"`);
  return name as (typeof transportNames)[number];
}
