/**
 * `agentmesh run <repo>`: one conductor run on a repository. Agents come from flags or
 * AGENTMESH_*_ADDR; any agent without an address is served in-process on loopback.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createConductor, formatCompareReport, formatEvent, formatRunReport, RunFailedError, type RunReport } from '@agentmesh/conductor';
import * as runtime from '@agentmesh/runtime';
import type { CallTransport } from '@agentmesh/runtime';
import { agentNames, startAgentServer, type AgentServer, type AgentService } from './agent-server';
import { agentAddress, parseTransport, roundRobinChannelOptions, SettingError } from './settings';
import { createCommandLogger } from './command-logger';

/** Options of runCommand, as parsed from the command line. */
export interface RunCommandOptions {
  repo: string;
  goal?: string;
  tasks?: string;
  apply: boolean;
  json?: string;
  transport?: string;
  probes: boolean;
  validators: boolean;
  compare: boolean;
  patchOut?: string;
  planner?: string;
  coder?: string;
  validator?: string;
}

/** The runtime's by-name transport factory. */
function transportFactory(): (name: string, address: string) => CallTransport {
  return (name, address) => runtime.createTransport(name, address);
}

/** Checks every setting before anything starts, so a bad one is a clear error at start. */
export function checkRunOptions(options: RunCommandOptions): { addresses: Partial<Record<AgentService, string>>; transport: string; workspace: string; tasksMarkdown?: string } {
  const workspace = path.resolve(options.repo);
  if (!fs.existsSync(workspace) || !fs.statSync(workspace).isDirectory()) throw new SettingError(`<repo> must be a directory, got "${options.repo}"`);
  if (options.goal !== undefined && !['typecheck', 'tests'].includes(options.goal)) throw new SettingError(`--goal must be typecheck or tests, got "${options.goal}"`);
  if (options.goal !== undefined && options.tasks !== undefined) throw new SettingError('give --goal or --tasks, not both');
  let tasksMarkdown: string | undefined;
  if (options.tasks !== undefined) {
    if (!fs.existsSync(options.tasks)) throw new SettingError(`--tasks must name a readable tasks.md, got "${options.tasks}"`);
    tasksMarkdown = fs.readFileSync(options.tasks, 'utf8');
  }
  const transport = parseTransport(options.transport);
  const addresses: Partial<Record<AgentService, string>> = {};
  for (const agent of agentNames) {
    const address = agentAddress(agent, options[agent]);
    if (address) addresses[agent] = address;
  }
  if (transport !== 'mesh' && agentNames.some((agent) => !addresses[agent])) {
    throw new SettingError(`--transport ${transport} needs every agent's address (--planner/--coder/--validator or AGENTMESH_*_ADDR): in-process agents are served on the mesh only`);
  }
  return { addresses, transport, workspace, tasksMarkdown };
}

/** Runs the command; resolves with the exit code (0 when every check passed). */
export async function runCommand(options: RunCommandOptions, print: (line: string) => void): Promise<number> {
  const checked = checkRunOptions(options);
  const logger = createCommandLogger('agentmesh-run');
  const missing = agentNames.filter((agent) => !checked.addresses[agent]);
  let local: AgentServer | undefined;
  if (missing.length > 0) {
    local = await startAgentServer({ services: missing, host: '127.0.0.1', port: 0, validator: checked.addresses.validator, identity: 'run-local', logger });
    print(`agentmesh run: serving ${missing.join(', ')} in-process on ${local.address}`);
  }
  const agents = {
    planner: checked.addresses.planner ?? local!.address,
    coder: checked.addresses.coder ?? local!.address,
    validator: checked.addresses.validator ?? local!.address,
  };
  const roundRobin = Object.values(agents).some((address) => String(address).startsWith('dns:///'));
  const conductor = createConductor({
    agents,
    transport: checked.transport,
    transportFactory: transportFactory(),
    identity: 'agentmesh-run',
    logger,
    ...(roundRobin ? { meshOptions: { channelOptions: roundRobinChannelOptions } } : {}),
  });
  const request = {
    workspace: checked.workspace,
    goal: options.goal,
    tasksMarkdown: checked.tasksMarkdown,
    apply: options.apply,
    probes: options.probes,
    validators: options.validators,
    patchFile: options.patchOut,
  };
  try {
    if (options.compare) {
      const compare = await conductor.compare({ ...request, probes: options.probes ? undefined : false, validators: options.validators ? undefined : false });
      for (const line of formatRunReport(compare.grounded)) print(line);
      for (const line of formatRunReport(compare.ungrounded)) print(line);
      for (const line of formatCompareReport(compare)) print(line);
      if (options.json) fs.writeFileSync(options.json, JSON.stringify(compare, null, 2));
      return compare.grounded.passed ? 0 : 1;
    }
    const run = conductor.run(request);
    run.events$.subscribe((event) => {
      const line = formatEvent(event);
      if (line) print(line);
    });
    const stop = () => run.cancel('interrupted');
    process.once('SIGINT', stop);
    let report: RunReport;
    try {
      report = await run.result;
    } catch (error) {
      if (!(error instanceof RunFailedError) || !error.report) throw error;
      report = error.report;
    } finally {
      process.off('SIGINT', stop);
    }
    for (const line of formatRunReport(report)) print(line);
    if (options.json) fs.writeFileSync(options.json, JSON.stringify(report, null, 2));
    return report.passed ? 0 : 1;
  } finally {
    await conductor.close();
    await local?.close();
  }
}
