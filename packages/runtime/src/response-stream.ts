/**
 * The value a streaming client method returns: an rxjs Observable (subscribe
 * to start the call, unsubscribe to cancel it) that is also an AsyncIterable
 * whose pace is the consumer's: credits are granted only as items are taken.
 */
import { Observable } from 'rxjs';
import type { StreamControl, StreamSink } from './types';

/** Starts a call that delivers into a sink; returns the call's control. */
export type StreamStarter<T> = (sink: StreamSink<T>) => StreamControl;

/** A cold stream of a call's responses. Each subscription or iteration places its own call. */
export class ResponseStream<T> extends Observable<T> implements AsyncIterable<T> {
  constructor(private readonly starter: StreamStarter<T>) {
    super((subscriber) => {
      let control: StreamControl | undefined;
      let ended = false;
      control = starter({
        next: (value) => {
          subscriber.next(value);
          control?.consumed(1);
        },
        error: (error) => {
          ended = true;
          subscriber.error(error);
        },
        complete: () => {
          ended = true;
          subscriber.complete();
        },
      });
      return () => {
        if (!ended) control?.cancel();
      };
    });
  }

  /** Iterates at the consumer's pace; breaking out of the loop cancels the call. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    const buffered: T[] = [];
    let failure: { error: unknown } | undefined;
    let done = false;
    let waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | undefined;
    const control = this.starter({
      next: (value) => {
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          control.consumed(1);
          w.resolve({ value, done: false });
        } else buffered.push(value);
      },
      error: (error) => {
        done = true;
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          w.reject(error);
        } else failure = { error };
      },
      complete: () => {
        done = true;
        if (waiting) {
          const w = waiting;
          waiting = undefined;
          w.resolve({ value: undefined, done: true });
        }
      },
    });
    return {
      next: () => {
        if (buffered.length > 0) {
          control.consumed(1);
          return Promise.resolve({ value: buffered.shift() as T, done: false });
        }
        if (failure) {
          const { error } = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
        });
      },
      return: () => {
        if (!done) {
          done = true;
          control.cancel();
        }
        buffered.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
