/**
 * OpenTelemetry tracing for every call: a SERVER span per handled call, a
 * CLIENT span per placed call, and the W3C `traceparent` carried in each call's
 * metadata, which is the same lower-cased string map on every transport.
 *
 * Off by default. It switches on from the standard variables
 * (`OTEL_TRACES_EXPORTER=otlp|console`, `OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`;
 * `OTEL_SDK_DISABLED=true` wins) or from startTracing() in code. When off, no
 * interceptor is installed at all, so a call pays nothing for it.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { observeCall, observeHandler, statusName, type ClientInterceptor, type ServerInterceptor } from './interceptors';
import type { CallContext } from '../types';

/** The instrumentation scope name of agentmesh's spans. */
export const TRACER_NAME = '@agentmesh/runtime';

/** Options of startTracing. */
export interface TracingOptions {
  /** `service.name` of the spans (default OTEL_SERVICE_NAME, else "agentmesh"). */
  serviceName?: string;
  /** Where spans go; exported in batches unless `simple`. */
  exporters: SpanExporter[];
  /** Export each span as it ends (tests, the in-memory exporter). */
  simple?: boolean;
}

/** Running tracing: flush before exit, shut down to stop. */
export interface Tracing {
  readonly provider: BasicTracerProvider;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;
let environmentChecked = false;

/**
 * Starts tracing in this process: registers the global tracer provider, the
 * AsyncLocalStorage context manager (so a handler's outgoing calls join its
 * trace) and the W3C propagator. Registries and clients created afterwards are traced.
 */
export function startTracing(options: TracingOptions): Tracing {
  if (active) return active;
  const processors: SpanProcessor[] = options.exporters.map((exporter) => (options.simple ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'agentmesh' }),
    spanProcessors: processors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracing: Tracing = {
    provider,
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
      if (active === tracing) active = undefined;
    },
  };
  active = tracing;
  return tracing;
}

/** The span exporters OTEL_TRACES_EXPORTER names; empty when tracing is off (the default here). */
export function exportersFromEnvironment(env: NodeJS.ProcessEnv = process.env): SpanExporter[] {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return [];
  const names = (env.OTEL_TRACES_EXPORTER ?? 'none').split(',').map((name) => name.trim().toLowerCase()).filter((name) => name && name !== 'none');
  return names.map((name) => {
    switch (name) {
      case 'otlp': {
        // Loaded only when asked for: the exporter pulls in the OTLP transformer.
        const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
        return new OTLPTraceExporter();
      }
      case 'console':
        return new ConsoleSpanExporter();
      default:
        throw new Error(`OTEL_TRACES_EXPORTER must be otlp, console or none, got "${name}"`);
    }
  });
}

/** Starts tracing when the environment asks for it (once per process); the tracing, or undefined when off. */
export function startTracingFromEnvironment(env: NodeJS.ProcessEnv = process.env, serviceName?: string): Tracing | undefined {
  if (active) return active;
  environmentChecked = true;
  const exporters = exportersFromEnvironment(env);
  return exporters.length ? startTracing({ exporters, serviceName }) : undefined;
}

/** True when this process traces calls. */
export function isTracingEnabled(): boolean {
  if (!active && !environmentChecked) startTracingFromEnvironment();
  return active !== undefined;
}

/** The interceptors every registry starts with: tracing when on, nothing when off. */
export function defaultServerInterceptors(): ServerInterceptor[] {
  return isTracingEnabled() ? [createServerTracingInterceptor()] : [];
}

/** The interceptors every typed client starts with: tracing when on, nothing when off. */
export function defaultClientInterceptors(): ClientInterceptor[] {
  return isTracingEnabled() ? [createClientTracingInterceptor()] : [];
}

function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

function endSpan(span: Span, error: unknown): void {
  const code = statusName(error);
  span.setAttribute('rpc.grpc.status_code', code);
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    if (error instanceof Error) span.recordException(error);
  }
  span.end();
}

/** The context a handler runs in, with its logger carrying the trace id. */
function tracedContext(ctx: CallContext, traceId: string): CallContext {
  let log: Logger | undefined;
  return Object.create(ctx, { log: { get: () => (log ??= ctx.log.child({ traceId })) } }) as CallContext;
}

/**
 * A SERVER span per handled call, child of the caller's `traceparent`; the
 * handler (each pull of its stream too) runs inside it, so its own calls carry it on.
 */
export function createServerTracingInterceptor(): ServerInterceptor {
  return (next, info) => {
    const name = `${info.service.fullName}/${info.method.name}`;
    const base: Attributes = { 'rpc.system': 'grpc', 'rpc.service': info.service.fullName, 'rpc.method': info.method.name };
    return (request, ctx) => {
      const parent = propagation.extract(ROOT_CONTEXT, ctx.metadata);
      const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes: { ...base, 'agentmesh.transport': ctx.peer.transport, 'agentmesh.peer': ctx.peer.id } }, parent);
      const spanContext: Context = trace.setSpan(parent, span);
      return observeHandler(next, request, tracedContext(ctx, span.spanContext().traceId), info.method.responseStream, {
        run: (work) => context.with(spanContext, work),
        end: (error) => endSpan(span, error),
      });
    };
  };
}

/** A CLIENT span per placed call, child of the active context, its `traceparent` put in the call's metadata. */
export function createClientTracingInterceptor(): ClientInterceptor {
  return (next) => (call) => {
    const parent = context.active();
    const span = tracer().startSpan(
      `${call.service.fullName}/${call.method.name}`,
      { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.service': call.service.fullName, 'rpc.method': call.method.name } },
      parent,
    );
    const metadata: Record<string, string> = { ...call.options.metadata };
    propagation.inject(trace.setSpan(parent, span), metadata);
    return observeCall(next, { ...call, options: { ...call.options, metadata } }, { end: (error) => endSpan(span, error) });
  };
}

/**
 * Runs `work` inside a span (a workflow phase, a tool call), so the calls it
 * places are its children. Costs one closure call when tracing is off.
 */
export async function inSpan<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!active) return work();
  const span = tracer().startSpan(name, { attributes });
  try {
    const result = await context.with(trace.setSpan(context.active(), span), work);
    endSpan(span, undefined);
    return result;
  } catch (error) {
    endSpan(span, error);
    throw error;
  }
}

/** A span started by startSpan, ended once by its owner. */
export interface SpanHandle {
  end(error?: unknown): void;
}

const noSpan: SpanHandle = { end: () => undefined };

/**
 * Starts a span as a child of the active context, for steps seen only as a
 * start and an end event (a tool call reported by an agent). A no-op when tracing is off.
 */
export function startSpan(name: string, attributes: Attributes = {}): SpanHandle {
  if (!active) return noSpan;
  const span = tracer().startSpan(name, { attributes });
  return { end: (error?: unknown) => endSpan(span, error) };
}
