/**
 * Client side of the transports that deliver a streamed method whole (unary,
 * rest): one response becomes every event at once, then the end.
 */
import { Code, MeshError } from '@agentmesh/protocol';
import type { StreamControl, StreamSink } from '../types';

/**
 * Delivers the items `decode` finds in a call's single response into the sink;
 * a decode failure is DATA_LOSS. Cancel stops delivery and cancels the call.
 */
export function deliverWhole<Raw, Item>(call: { promise: Promise<Raw>; cancel(): void }, decode: (raw: Raw) => Item[], sink: StreamSink<Item>): StreamControl {
  let cancelled = false;
  call.promise.then(
    (raw) => {
      if (cancelled) return;
      let items: Item[];
      try {
        items = decode(raw);
      } catch (error) {
        return sink.error(MeshError.from(error, Code.DATA_LOSS));
      }
      for (const item of items) {
        if (cancelled) return;
        sink.next(item);
      }
      if (!cancelled) sink.complete();
    },
    (error) => {
      if (!cancelled) sink.error(error);
    },
  );
  return {
    cancel: () => {
      if (cancelled) return;
      cancelled = true;
      call.cancel();
    },
    consumed: () => undefined,
  };
}
