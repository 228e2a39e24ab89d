/**
 * @agentmesh/bench: the bench as a library (the CLI is main.ts), so tests and
 * other tools can run scenarios and read results.
 */
export { parseArguments, runBench } from './main';
export type { BenchArguments } from './main';
export { benchConfig } from './bench-config';
export type { BenchConfig } from './bench-config';
export { evaluateTargets } from './bench-results';
export type { BenchResults, TargetOutcome } from './bench-results';
export { benchTransports, echoTransports } from './transport-table';
export type { BenchTransport, EchoServer, EchoTransportEntry } from './transport-table';
export { createLatencyHistogram, summarizeUs } from './latency';
export type { LatencySummaryUs } from './latency';
export { startChildServer } from './child-server';
export type { ChildServer, ChildServerOptions } from './child-server';
