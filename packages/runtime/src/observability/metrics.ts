/**
 * Prometheus metrics of one service, on its own prom-client Registry (never the
 * global one), so several services in one process (tests, `serve all`) keep
 * their figures apart. Calls are counted and timed by interceptors on both
 * ends; mesh sessions are read from the server's live sessions when scraped;
 * sandbox decisions and workflow steps are fed in by their owners.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { observeCall, observeHandler, statusName, type ClientInterceptor, type ServerInterceptor } from './interceptors';
import type { Session, SessionEvent, SessionStats } from '../mesh/session';

/** Latency buckets in seconds: from a mesh hop (~50 µs) to a long validation run (minutes). */
export const latencyBuckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Token-count buckets of `gen_ai.client.token.usage`, as the GenAI semantic conventions advise. */
export const tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** What metrics need of a mesh server: its live sessions and totals. */
export interface ObservedMeshServer {
  sessions(): Session[];
  stats(): { sessionsAccepted: number; activeSessions: number; activeCalls: number };
}

/** A sandbox decision, structurally (the runtime does not depend on @agentmesh/sandbox). */
export interface SandboxDecisionLike {
  readonly outcome: 'allowed' | 'refused' | 'killed';
  readonly sandbox: string;
  readonly rule?: string;
  readonly limit?: string;
  readonly dryRun?: boolean;
}

/** A workflow step report, structurally: the parts of the conductor's RunMetrics counted here. */
export interface WorkflowMetricsLike {
  phasesMs: Partial<Record<string, number>>;
  toolCalls: Record<string, Record<string, number>>;
  retries: number;
  tokens: { input: number; output: number };
  planAdherence: { ratio: number; tasksPlanned: number; tasksDone: number };
}

/** Options of createServiceMetrics. */
export interface ServiceMetricsOptions {
  /** The service's name, the `agent` label on every series (planner, coder, all, …). */
  service: string;
  /** Add default Node.js process metrics (CPU, memory, event loop lag). */
  processMetrics?: boolean;
}

/** The metrics of one service. */
export interface ServiceMetrics {
  /** The prom-client registry: `await registry.metrics()` is the scrape. */
  readonly registry: Registry;
  /** Register on the ServiceRegistry: counts and times every handled call, on every transport. */
  readonly serverInterceptor: ServerInterceptor;
  /** Give to typed clients: counts and times every placed call. */
  readonly clientInterceptor: ClientInterceptor;
  /** Reports a mesh server's sessions, bytes, frames and batches when scraped. */
  observeMeshServer(server: ObservedMeshServer): void;
  /** Pass as MeshPeerOptions.onSessionEvent: counts resumes, reconnects, goaways, losses, and times round trips. */
  readonly onSessionEvent: (session: Session, event: SessionEvent) => void;
  /** Counts a drain (shutdown or rotation) of this service's server. */
  recordDrain(reason: string): void;
  /** Counts sandbox runs by kind and outcome; subscribe it to a decision recorder's onDecision. */
  readonly recordSandboxDecision: (decision: SandboxDecisionLike) => void;
  /** Records one workflow run's step metrics (phase durations, tool calls, retries, adherence, tokens). */
  recordWorkflow(metrics: WorkflowMetricsLike, status: string): void;
  /** The scrape in the Prometheus text format. */
  metrics(): Promise<string>;
}

type Totals = Pick<SessionStats, 'bytesSent' | 'bytesReceived' | 'framesSent' | 'framesReceived' | 'batchesSent' | 'batchesReceived'>;
const totalKeys: (keyof Totals)[] = ['bytesSent', 'bytesReceived', 'framesSent', 'framesReceived', 'batchesSent', 'batchesReceived'];

/** Creates the metrics of one service on a fresh registry. */
export function createServiceMetrics(options: ServiceMetricsOptions): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ agent: options.service });
  if (options.processMetrics) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('prom-client') as typeof import('prom-client')).collectDefaultMetrics({ register: registry });
  }
  const registers = [registry];
  const callLabels = ['service', 'method', 'code', 'transport'] as const;

  const serverCalls = new Counter({ name: 'agentmesh_server_calls_total', help: 'Calls handled, by service, method, status code and transport', labelNames: callLabels, registers });
  const serverDuration = new Histogram({
    name: 'agentmesh_server_call_duration_seconds',
    help: 'Time from a call reaching its handler to its end (last event of a stream)',
    labelNames: callLabels,
    buckets: latencyBuckets,
    registers,
  });
  const serverActive = new Gauge({ name: 'agentmesh_server_active_calls', help: 'Calls being handled now', labelNames: ['service', 'method'], registers });
  const clientCalls = new Counter({ name: 'agentmesh_client_calls_total', help: 'Calls placed on peers, by service, method, status code and transport', labelNames: callLabels, registers });
  const clientDuration = new Histogram({
    name: 'agentmesh_client_call_duration_seconds',
    help: 'Time from placing a call to its end, as the caller sees it',
    labelNames: callLabels,
    buckets: latencyBuckets,
    registers,
  });
  const clientActive = new Gauge({ name: 'agentmesh_client_active_calls', help: 'Calls placed and not yet ended', labelNames: ['service', 'method'], registers });

  const meshServers: ObservedMeshServer[] = [];
  const seen = new WeakMap<Session, Totals>();
  const pollTotals: Record<keyof Totals, number> = { bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0, batchesSent: 0, batchesReceived: 0 };
  // Sessions are read when scraped: what a session did after the last scrape and before it closed is not counted.
  const poll = () => {
    for (const server of meshServers) {
      for (const session of server.sessions()) {
        const last = seen.get(session) ?? { bytesSent: 0, bytesReceived: 0, framesSent: 0, framesReceived: 0, batchesSent: 0, batchesReceived: 0 };
        const now = {} as Totals;
        for (const key of totalKeys) {
          now[key] = session.stats[key];
          pollTotals[key] += Math.max(0, now[key] - last[key]);
        }
        seen.set(session, now);
      }
    }
  };
  const meshCounter = (name: string, help: string, key: keyof Totals) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        poll();
        this.reset();
        this.inc(pollTotals[key]);
      },
    });
  meshCounter('agentmesh_mesh_bytes_sent_total', 'Bytes of frame batches written on mesh sessions', 'bytesSent');
  meshCounter('agentmesh_mesh_bytes_received_total', 'Bytes of frame batches read on mesh sessions', 'bytesReceived');
  meshCounter('agentmesh_mesh_frames_sent_total', 'Frames written on mesh sessions', 'framesSent');
  meshCounter('agentmesh_mesh_frames_received_total', 'Frames read on mesh sessions', 'framesReceived');
  meshCounter('agentmesh_mesh_batches_sent_total', 'Frame batches (gRPC messages) written on mesh sessions', 'batchesSent');
  meshCounter('agentmesh_mesh_batches_received_total', 'Frame batches read on mesh sessions', 'batchesReceived');
  new Gauge({
    name: 'agentmesh_mesh_frames_per_batch',
    help: 'Average frames per batch since start, by direction: how much the writer coalesces',
    labelNames: ['direction'],
    registers,
    collect() {
      poll();
      this.set({ direction: 'sent' }, pollTotals.batchesSent ? pollTotals.framesSent / pollTotals.batchesSent : 0);
      this.set({ direction: 'received' }, pollTotals.batchesReceived ? pollTotals.framesReceived / pollTotals.batchesReceived : 0);
    },
  });
  new Gauge({
    name: 'agentmesh_mesh_active_sessions',
    help: 'Mesh sessions open on this server now',
    registers,
    collect() {
      this.set(meshServers.reduce((sum, server) => sum + server.stats().activeSessions, 0));
    },
  });
  new Gauge({
    name: 'agentmesh_mesh_active_calls',
    help: 'Calls in flight on this server\'s mesh sessions now',
    registers,
    collect() {
      this.set(meshServers.reduce((sum, server) => sum + server.stats().activeCalls, 0));
    },
  });
  new Counter({
    name: 'agentmesh_mesh_sessions_accepted_total',
    help: 'Mesh Connect streams accepted since start',
    registers,
    collect() {
      this.reset();
      this.inc(meshServers.reduce((sum, server) => sum + server.stats().sessionsAccepted, 0));
    },
  });
  const resumes = new Counter({ name: 'agentmesh_mesh_resumes_total', help: 'Mesh sessions resumed after a dropped stream', registers });
  const reconnects = new Counter({ name: 'agentmesh_mesh_reconnects_total', help: 'Reconnect attempts of dropped mesh sessions', registers });
  const sessionEvents = new Counter({ name: 'agentmesh_mesh_session_events_total', help: 'Mesh session events: lost, reconnecting, resumed, resume-failed, goaway', labelNames: ['event'], registers });
  const drains = new Counter({ name: 'agentmesh_mesh_drains_total', help: 'Drains of this service (goaway to every session), by reason', labelNames: ['reason'], registers });
  const rtt = new Histogram({ name: 'agentmesh_mesh_rtt_seconds', help: 'Heartbeat round-trip times of mesh sessions', buckets: latencyBuckets, registers });

  const sandboxRuns = new Counter({
    name: 'agentmesh_sandbox_runs_total',
    help: 'Sandbox runs by kind (process, isolate) and outcome (allowed, refused, killed); reason is the refusing rule or the limit',
    labelNames: ['kind', 'outcome', 'reason'],
    registers,
  });

  const phaseDuration = new Histogram({ name: 'agentmesh_workflow_phase_duration_seconds', help: 'Wall time of each workflow phase', labelNames: ['phase'], buckets: latencyBuckets, registers });
  const toolCalls = new Counter({ name: 'agentmesh_workflow_tool_calls_total', help: 'Tool calls of workflow runs, by agent and tool', labelNames: ['agent', 'tool'], registers });
  const retries = new Counter({ name: 'agentmesh_workflow_retries_total', help: 'Task retries with feedback', registers });
  const adherence = new Gauge({ name: 'agentmesh_workflow_plan_adherence_ratio', help: 'Tasks done over tasks planned, of the last run', registers });
  const runs = new Counter({ name: 'agentmesh_workflow_runs_total', help: 'Workflow runs by final status', labelNames: ['status'], registers });
  // gen_ai.client.token.usage, made Prometheus-safe; gen_ai.token.type becomes the gen_ai_token_type label.
  const tokens = new Histogram({
    name: 'gen_ai_client_token_usage',
    help: 'Tokens used per workflow run (OpenTelemetry GenAI gen_ai.client.token.usage), by gen_ai.token.type',
    labelNames: ['gen_ai_token_type', 'gen_ai_operation_name'],
    buckets: tokenBuckets,
    registers,
  });

  const serverInterceptor: ServerInterceptor = (next, info) => {
    const service = info.service.fullName;
    const method = info.method.name;
    const active = serverActive.labels(service, method);
    return (request, ctx) => {
      const started = process.hrtime.bigint();
      active.inc();
      return observeHandler(next, request, ctx, info.method.responseStream, {
        end(error) {
          active.dec();
          const labels = { service, method, code: statusName(error), transport: ctx.peer.transport };
          serverCalls.inc(labels);
          serverDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
        },
      });
    };
  };

  const clientInterceptor: ClientInterceptor = (next) => (call) => {
    const service = call.service.fullName;
    const method = call.method.name;
    const started = process.hrtime.bigint();
    clientActive.inc({ service, method });
    return observeCall(next, call, {
      end(error) {
        clientActive.dec({ service, method });
        const labels = { service, method, code: statusName(error), transport: call.transport };
        clientCalls.inc(labels);
        clientDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      },
    });
  };

  return {
    registry,
    serverInterceptor,
    clientInterceptor,
    observeMeshServer: (server) => void meshServers.push(server),
    onSessionEvent(_session, event) {
      if (event.type === 'rtt') return rtt.observe(event.rttMs / 1000);
      sessionEvents.inc({ event: event.type });
      if (event.type === 'resumed') resumes.inc();
      else if (event.type === 'reconnecting') reconnects.inc();
    },
    recordDrain: (reason) => drains.inc({ reason }),
    recordSandboxDecision(decision) {
      if (decision.dryRun) return;
      sandboxRuns.inc({ kind: decision.sandbox, outcome: decision.outcome, reason: decision.rule ?? decision.limit ?? '' });
    },
    recordWorkflow(metrics, status) {
      runs.inc({ status });
      for (const [phase, ms] of Object.entries(metrics.phasesMs)) if (ms !== undefined) phaseDuration.observe({ phase }, ms / 1000);
      for (const [agent, byTool] of Object.entries(metrics.toolCalls)) for (const [tool, count] of Object.entries(byTool)) toolCalls.inc({ agent, tool }, count);
      retries.inc(metrics.retries);
      adherence.set(metrics.planAdherence.ratio);
      tokens.observe({ gen_ai_token_type: 'input', gen_ai_operation_name: 'invoke_agent' }, metrics.tokens.input);
      tokens.observe({ gen_ai_token_type: 'output', gen_ai_operation_name: 'invoke_agent' }, metrics.tokens.output);
    },
    metrics: () => registry.metrics(),
  };
}
