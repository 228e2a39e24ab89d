/**
 * The hop scenario: one request, one response, concurrency 1, per transport
 * and payload size. Warm-up calls are made and not recorded.
 */
import { startChildServer } from '../child-server';
import { createLatencyHistogram, elapsedNs, summarizeUs, type LatencySummaryUs } from '../latency';
import type { BenchConfig } from '../bench-config';
import type { Progress } from '../progress';
import type { BenchTransport } from '../transport-table';

/** Hop summaries keyed by payload size (bytes) then transport. */
export type HopResults = Record<string, Record<string, LatencySummaryUs>>;

/** Runs the hop scenario over the given transports. */
export async function runHop(transports: BenchTransport[], config: BenchConfig, progress: Progress): Promise<HopResults> {
  const results: HopResults = {};
  for (const transport of transports) {
    const server = await startChildServer(transport.server.script, transport.server.args);
    try {
      const caller = await transport.connect(server.address);
      try {
        for (const size of config.hop.payloads) {
          const payload = Buffer.alloc(size, 0x61);
          const samples = transport.name === 'rest-nokeepalive' ? config.hop.slowSamples : config.hop.samples;
          for (let i = 0; i < config.hop.warmup; i++) {
            await caller.call(payload);
            if (i % 100 === 0) progress.update(`hop: ${transport.name} ${size} B warm-up ${i}/${config.hop.warmup}`);
          }
          const histogram = createLatencyHistogram();
          for (let i = 0; i < samples; i++) {
            const start = process.hrtime.bigint();
            await caller.call(payload);
            histogram.recordValue(elapsedNs(start));
            if (i % 200 === 0) progress.update(`hop: ${transport.name} ${size} B ${i}/${samples}`);
          }
          (results[String(size)] ??= {})[transport.name] = summarizeUs(histogram);
        }
      } finally {
        await caller.close();
      }
    } finally {
      await server.stop();
    }
  }
  return results;
}
