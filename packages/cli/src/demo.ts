/**
 * `agentmesh demo`: the main job end to end. The three agents start as separate OS
 * processes on loopback ports, the conductor repairs a fresh temp copy of
 * examples/broken-repo over the mesh with live progress, the report is printed, every
 * process is stopped, and the exit code is 0 only if the copy ends green.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createConductor, formatEvent, formatRunReport, type RunReport } from '@agentmesh/conductor';
import { createTransport, createMeshClient } from '@agentmesh/runtime';
import { ValidatorServiceDefinition } from '@agentmesh/protocol';
import { startChildService, stopChildService, type ChildService } from './smoke';
import { createCommandLogger } from './command-logger';

/** Where the example lives, from the built dist or the sources. */
export const exampleRepository = path.resolve(__dirname, '../../../examples/broken-repo');

/** Options of runDemo. */
export interface DemoOptions {
  /** Keep the repaired copy instead of removing it. */
  keep?: boolean;
  /** Write the report as JSON here. */
  json?: string;
  /** How the conductor calls the agents: mesh (default), grpc, unary, rest, rest-nokeepalive. */
  transport?: string;
}

/** Copies the example to a new temp dir, leaving out build output. */
export function copyExample(source = exampleRepository): string {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'agentmesh-demo-'));
  fs.cpSync(source, target, { recursive: true, filter: (file) => !/[\\/](dist|node_modules)$/.test(file) });
  return target;
}

/** Runs the demo; resolves with the exit code. */
export async function runDemo(print: (line: string) => void, options: DemoOptions = {}): Promise<number> {
  const started = performance.now();
  const children: ChildService[] = [];
  const copy = copyExample();
  print(`agentmesh demo: repairing a fresh copy of examples/broken-repo at ${copy}`);
  const conductorMesh = createMeshClient({ identity: 'demo', logger: createCommandLogger('agentmesh-demo') });
  let conductor: ReturnType<typeof createConductor> | undefined;
  try {
    const startAt = performance.now();
    const validator = await startChildService('validator', ['validator']);
    children.push(validator);
    const [planner, coder] = await Promise.all([startChildService('planner', ['planner', '--validator', validator.address]), startChildService('coder', ['coder'])]);
    children.push(planner, coder);
    for (const child of [planner, coder, validator]) print(`  ${child.name.padEnd(9)} listening on ${child.address} (pid ${child.process.pid})`);
    print(`  services up in ${Math.round(performance.now() - startAt)} ms`);
    const transport = options.transport ?? 'mesh';
    const at = (child: ChildService) => {
      const address = child.addresses[transport];
      if (!address) throw new Error(`${child.name} did not announce a ${transport} address`);
      return address;
    };
    if (transport !== 'mesh') print(`  the conductor calls the agents over ${transport}`);
    conductor = createConductor({
      agents: { planner: at(planner), coder: at(coder), validator: at(validator) },
      transport,
      transportFactory: (name, address) => createTransport(name, address),
      identity: 'demo-conductor',
      logger: createCommandLogger('agentmesh-demo'),
    });
    const run = conductor.run({ workspace: copy, goal: 'tests', apply: true });
    run.events$.subscribe((event) => {
      const line = formatEvent(event);
      if (line) print(line);
    });
    let report: RunReport;
    try {
      report = await run.result;
    } catch (error) {
      const failed = error as Error & { report?: RunReport };
      if (failed.report) for (const line of formatRunReport(failed.report)) print(line);
      print(`demo: FAILED: ${failed.message}`);
      return 1;
    }
    for (const line of formatRunReport(report)) print(line);
    if (options.json) fs.writeFileSync(options.json, JSON.stringify(report, null, 2));
    // The copy itself, after apply, checked once more with no patches: green means green on disk.
    const client = conductorMesh.client(ValidatorServiceDefinition, validator.address);
    let green = report.passed && report.applied.length > 0;
    const checks: string[] = [];
    for await (const event of client.validate({ workspace: copy, patches: [], checks: ['typecheck', 'tests'], taskId: 'copy' }, { timeoutMs: 120_000 })) {
      if (event.event?.$case === 'checkEnd') checks.push(`${event.event.checkEnd.name} ${event.event.checkEnd.passed ? 'passed' : 'FAILED'}`);
      if (event.event?.$case === 'finish') green &&= event.event.finish.passed;
    }
    print(`  the copy on disk: ${checks.join(', ')}`);
    print(`demo: ${green ? 'OK, the copy is green' : 'FAILED, the copy is not green'} (${Math.round(performance.now() - started)} ms)`);
    return green ? 0 : 1;
  } finally {
    await conductor?.close();
    await conductorMesh.close();
    await Promise.all(children.map((child) => stopChildService(child)));
    print(`  stopped ${children.length} agent processes`);
    if (!options.keep) fs.rmSync(copy, { recursive: true, force: true });
  }
}
