/**
 * The chatty workflow, synthesized on EchoService with the agents' message
 * pattern and zero think time: K read-only probes (unary), a streamed plan,
 * a streamed implementation, then R validate rounds (a streamed check list and
 * a unary feedback call). `rtt` runs the same workflow through the delaying
 * TCP proxy, in its own process, at several one-way delays.
 */
import { startChildServer } from '../child-server';
import { createLatencyHistogram } from '../latency';
import type { BenchConfig } from '../bench-config';
import type { Progress } from '../progress';
import type { BenchTransport } from '../transport-table';
import type { EchoServiceDefinition } from '@agentmesh/protocol';
import type { ServiceClient } from '../runtime-api';

/** End-to-end figures of one transport, in milliseconds. */
export interface WorkflowSummary {
  p50Ms: number;
  p99Ms: number;
  /** p50 time from the start to the plan's first event. */
  firstEventMs: number;
  /** Calls placed per workflow. */
  callsPerWorkflow: number;
  samples: number;
}

/** One rtt point: the workflow p50 per transport at a one-way delay. */
export type RttPoint = { oneWayMs: number } & Record<string, { p50Ms: number; samples: number } | number>;

type EchoClient = ServiceClient<typeof EchoServiceDefinition>;

async function drain(stream: AsyncIterable<unknown>, onFirst?: () => void): Promise<void> {
  let first = true;
  for await (const _ of stream) {
    if (first && onFirst) onFirst();
    first = false;
  }
}

/** Runs one workflow; returns nanoseconds to the end and to the first plan event. */
async function workflowOnce(client: EchoClient, shape: BenchConfig['workflow']): Promise<{ totalNs: number; firstEventNs: number }> {
  const start = process.hrtime.bigint();
  let firstEventNs = 0;
  const probe = Buffer.alloc(256, 0x70);
  for (let i = 0; i < shape.probes; i++) await client.echo({ payload: probe, responseBytes: 1024 });
  await drain(client.count({ count: shape.planEvents, payloadBytes: 512 }), () => {
    firstEventNs = Number(process.hrtime.bigint() - start);
  });
  await drain(client.count({ count: shape.coderEvents, payloadBytes: 256 }));
  for (let round = 0; round < shape.rounds; round++) {
    await drain(client.count({ count: shape.checks, payloadBytes: 128 }));
    await client.echo({ payload: probe });
  }
  return { totalNs: Number(process.hrtime.bigint() - start), firstEventNs };
}

/** Calls one workflow places. */
export function callsPerWorkflow(shape: BenchConfig['workflow']): number {
  return shape.probes + 2 + shape.rounds * 2;
}

/** Runs `warmup` unrecorded then `iterations` recorded workflows on one client. */
export async function measureWorkflow(client: EchoClient, shape: BenchConfig['workflow'], warmup: number, iterations: number, onStep: (i: number) => void): Promise<WorkflowSummary> {
  for (let i = 0; i < warmup; i++) await workflowOnce(client, shape);
  const total = createLatencyHistogram();
  const first = createLatencyHistogram();
  for (let i = 0; i < iterations; i++) {
    const run = await workflowOnce(client, shape);
    total.recordValue(run.totalNs);
    first.recordValue(Math.max(1, run.firstEventNs));
    onStep(i);
  }
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    p50Ms: ms(total.getValueAtPercentile(50)),
    p99Ms: ms(total.getValueAtPercentile(99)),
    firstEventMs: ms(first.getValueAtPercentile(50)),
    callsPerWorkflow: callsPerWorkflow(shape),
    samples: total.totalCount,
  };
}

/** Runs the workflow over every transport that offers an EchoService client. */
export async function runWorkflow(transports: BenchTransport[], config: BenchConfig, progress: Progress): Promise<Record<string, WorkflowSummary>> {
  const results: Record<string, WorkflowSummary> = {};
  for (const transport of transports) {
    if (!transport.echoClient) continue;
    const server = await startChildServer(transport.server.script, transport.server.args);
    const { client, close } = transport.echoClient(server.address);
    try {
      results[transport.name] = await measureWorkflow(client, config.workflow, config.workflow.warmup, config.workflow.iterations, (i) =>
        progress.update(`workflow: ${transport.name} ${i + 1}/${config.workflow.iterations}`),
      );
    } finally {
      await close();
      await server.stop();
    }
  }
  return results;
}

/** Runs the workflow through the proxy at each one-way delay. */
export async function runRtt(transports: BenchTransport[], config: BenchConfig, progress: Progress): Promise<RttPoint[]> {
  const points: RttPoint[] = config.rtt.oneWayMs.map((oneWayMs) => ({ oneWayMs }) as RttPoint);
  for (const transport of transports) {
    if (!transport.echoClient) continue;
    const server = await startChildServer(transport.server.script, transport.server.args);
    const proxy = await startChildServer('proxy.js', [String(server.port), '0']);
    const { client, close } = transport.echoClient(proxy.address);
    try {
      for (const point of points) {
        await proxy.command(`delay ${point.oneWayMs}`);
        const summary = await measureWorkflow(client, config.workflow, 1, config.rtt.iterations, (i) =>
          progress.update(`rtt: ${transport.name} at ${point.oneWayMs} ms one-way ${i + 1}/${config.rtt.iterations}`),
        );
        point[transport.name] = { p50Ms: summary.p50Ms, samples: summary.samples };
      }
    } finally {
      await close();
      await proxy.stop();
      await server.stop();
    }
  }
  return points;
}
