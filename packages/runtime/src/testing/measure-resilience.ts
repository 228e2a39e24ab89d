/**
 * Measures what the robustness features cost and deliver, on loopback through
 * the TCP proxy: how fast a blackholed peer is detected, how long a resume
 * takes after a cut, and the memory one idle session and a loaded replay
 * buffer hold. Run: `node packages/runtime/dist/testing/measure-resilience.js`.
 */
import { EchoServiceDefinition } from '@agentmesh/protocol';
import { createEchoService } from '../echo/echo-service';
import { createMeshClient, type MeshClient } from '../mesh/mesh-client';
import { createMeshServer } from '../mesh/mesh-server';
import type { SessionEvent } from '../mesh/session';
import { createTcpProxy } from './tcp-proxy';

/** What measureResilience found. */
export interface ResilienceReport {
  heartbeat: { intervalMs: number; timeoutMs: number };
  blackholeDetectionMs: number[];
  resumeAfterCutMs: number[];
  idleSessionBytes: { heapPerSession: number; rssPerSession: number; sessions: number };
  replayBuffer: { maxBytes: number; limitBytes: number; events: number; payloadBytes: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs every measurement with the default heartbeat and resume settings. */
export async function measureResilience(rounds = 3): Promise<ResilienceReport> {
  const server = createMeshServer({ identity: 'measure' });
  server.register(EchoServiceDefinition, createEchoService());
  const port = await server.listen('127.0.0.1:0');
  const proxy = await createTcpProxy({ target: { host: '127.0.0.1', port } });
  const report: ResilienceReport = {
    heartbeat: { intervalMs: 500, timeoutMs: 2500 },
    blackholeDetectionMs: [],
    resumeAfterCutMs: [],
    idleSessionBytes: { heapPerSession: 0, rssPerSession: 0, sessions: 0 },
    replayBuffer: { maxBytes: 0, limitBytes: 16 * 1024 * 1024, events: 20_000, payloadBytes: 1024 },
  };
  try {
    for (let round = 0; round < rounds; round++) {
      // Detection: blackhole, then wait for the client's 'lost' event.
      let lostAt = 0;
      let resumed: SessionEvent | undefined;
      const mesh = createMeshClient({
        identity: `measure-${round}`,
        onSessionEvent: (_s, e) => {
          if (e.type === 'lost' && !lostAt) lostAt = performance.now();
          if (e.type === 'resumed') resumed = e;
        },
      });
      const client = mesh.client(EchoServiceDefinition, `127.0.0.1:${proxy.port}`);
      await client.echo({});
      await new Promise((r) => setTimeout(r, 600)); // let a heartbeat pass, as in steady state
      const blackholedAt = performance.now();
      proxy.blackhole();
      while (!lostAt) await new Promise((r) => setTimeout(r, 5));
      report.blackholeDetectionMs.push(Math.round(lostAt - blackholedAt));
      proxy.pass();
      while (!resumed) await new Promise((r) => setTimeout(r, 5));
      // Resume after a cut: the downtime the session itself reports.
      resumed = undefined;
      const inflight = client.echo({ delayMs: 200 });
      proxy.cut();
      await inflight;
      while (!resumed) await new Promise((r) => setTimeout(r, 5));
      report.resumeAfterCutMs.push((resumed as Extract<SessionEvent, { type: 'resumed' }>).downtimeMs);
      await mesh.close();
    }
    // Idle sessions: open many, measure what they hold (both ends live in this process).
    await settle();
    const before = process.memoryUsage();
    const clients: MeshClient[] = [];
    const sessions = 200;
    for (let i = 0; i < sessions; i++) {
      const mesh = createMeshClient({ identity: `idle-${i}` });
      await mesh.client(EchoServiceDefinition, `127.0.0.1:${port}`).echo({});
      clients.push(mesh);
    }
    await settle();
    const after = process.memoryUsage();
    report.idleSessionBytes = {
      heapPerSession: Math.round((after.heapUsed - before.heapUsed) / sessions),
      rssPerSession: Math.round((after.rss - before.rss) / sessions),
      sessions,
    };
    await Promise.all(clients.map((c) => c.close()));
    // The replay buffer under load: sample the server's buffer during a long stream.
    const mesh = createMeshClient({ identity: 'replay' });
    const client = mesh.client(EchoServiceDefinition, `127.0.0.1:${port}`);
    let maxBytes = 0;
    const sampler = setInterval(() => {
      for (const s of server.sessions()) maxBytes = Math.max(maxBytes, s.replayBufferBytes);
    }, 1);
    for await (const _event of client.count({ count: report.replayBuffer.events, payloadBytes: report.replayBuffer.payloadBytes })) {
      // consume as fast as possible
    }
    clearInterval(sampler);
    report.replayBuffer.maxBytes = maxBytes;
    await mesh.close();
  } finally {
    await proxy.close();
    await server.shutdown(50);
  }
  return report;
}

if (require.main === module) {
  process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'silent';
  measureResilience().then(
    (r) => {
      const line = (label: string, value: string) => process.stdout.write(`${label.padEnd(44)} ${value}\n`);
      line('heartbeat (interval / loss timeout)', `${r.heartbeat.intervalMs} ms / ${r.heartbeat.timeoutMs} ms`);
      line('blackholed peer detected after (median)', `${median(r.blackholeDetectionMs)} ms  [${r.blackholeDetectionMs.join(', ')}]`);
      line('resume after a cut, downtime (median)', `${median(r.resumeAfterCutMs)} ms  [${r.resumeAfterCutMs.join(', ')}]`);
      line('one idle session, both ends, heap', `${(r.idleSessionBytes.heapPerSession / 1024).toFixed(1)} KiB (of ${r.idleSessionBytes.sessions} sessions)`);
      line('one idle session, both ends, RSS', `${(r.idleSessionBytes.rssPerSession / 1024).toFixed(1)} KiB`);
      line(
        'replay buffer peak under load',
        `${(r.replayBuffer.maxBytes / 1024).toFixed(1)} KiB (${r.replayBuffer.events} events of ${r.replayBuffer.payloadBytes} B; limit ${r.replayBuffer.limitBytes / 1024 / 1024} MiB)`,
      );
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`measure-resilience failed: ${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
