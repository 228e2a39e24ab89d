/** Metrics, traces and the interceptors that apply them to every call. */
export {
  composeServerInterceptors,
  observeCall,
  observeHandler,
  statusName,
  withClientInterceptors,
} from './interceptors';
export type { CallInvoker, ClientInterceptor, OutgoingCall, OutgoingObserver, ResultObserver, ServerHandler, ServerInterceptor, ServerMethodInfo } from './interceptors';
export { createServiceMetrics, latencyBuckets, tokenBuckets } from './metrics';
export type { ObservedMeshServer, SandboxDecisionLike, ServiceMetrics, ServiceMetricsOptions, WorkflowMetricsLike } from './metrics';
export { startMetricsServer } from './metrics-server';
export type { MetricsServer, MetricsServerOptions } from './metrics-server';
export {
  TRACER_NAME,
  createClientTracingInterceptor,
  createServerTracingInterceptor,
  defaultClientInterceptors,
  defaultServerInterceptors,
  exportersFromEnvironment,
  inSpan,
  isTracingEnabled,
  startTracing,
  startSpan,
  startTracingFromEnvironment,
} from './tracing';
export type { SpanHandle, Tracing, TracingOptions } from './tracing';
