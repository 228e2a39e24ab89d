/**
 * Latency histograms in nanoseconds (hdr-histogram-js) and the summaries the
 * report prints, each with its sample count.
 */
import * as hdr from 'hdr-histogram-js';

/** Percentiles of one run, in microseconds, with the number of samples behind them. */
export interface LatencySummaryUs {
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  samples: number;
}

/** A histogram for latencies from 1 ns to 120 s at 3 significant digits. */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120e9, numberOfSignificantValueDigits: 3, useWebAssembly: false });
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Summarizes a nanosecond histogram in microseconds. */
export function summarizeUs(histogram: hdr.Histogram): LatencySummaryUs {
  const at = (p: number) => round(histogram.getValueAtPercentile(p) / 1000);
  return { p50Us: at(50), p90Us: at(90), p99Us: at(99), p999Us: at(99.9), maxUs: round(histogram.maxValue / 1000), samples: histogram.totalCount };
}

/** Nanoseconds since an hrtime origin, as a number (safe for runs far shorter than 104 days). */
export function elapsedNs(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}
