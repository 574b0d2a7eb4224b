import { GraphQLError, type ExecutionResult } from 'graphql';

/** The most a Node timer can wait (ms); a later expiry is reached in several waits. */
const MAX_TIMER_MS = 2_147_483_647;

/** Runs `fn` once at `at` (ms since the epoch; at once if that has passed). Returns a cancel function. */
export function atTime(at: number, fn: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = at - Date.now();
    if (left <= 0) {
      timer = undefined;
      fn();
      return;
    }
    timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
    timer.unref();
  };
  // Deferred, so a cancel right after subscribing wins even for an expiry already past.
  timer = setTimeout(arm, 0);
  timer.unref();
  return () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
}

/** The last message of a stream whose token expired: the client must come back with a fresh one. */
export function tokenExpiredResult(): ExecutionResult {
  return { errors: [new GraphQLError('The token expired: subscribe again with a fresh token', { extensions: { code: 'UNAUTHENTICATED' } })] };
}

/**
 * The results of `source` until the token that opened it expires at `expiresAt`: then the
 * source is closed and {@link tokenExpiredResult} is the last result. A stream must not
 * outlive the authority that opened it.
 */
export function untilTokenExpiry(source: AsyncIterable<ExecutionResult>, expiresAt: number): AsyncIterableIterator<ExecutionResult> {
  const inner = source[Symbol.asyncIterator]();
  let ended = false;
  // One wake-up for the `next()` in progress, re-armed per call: a single promise raced by
  // every `next()` would keep each race (and its result) alive until the token expires.
  let past = false;
  let wake: (() => void) | undefined;
  const cancel = atTime(expiresAt, () => {
    past = true;
    wake?.();
  });
  const end = async () => {
    ended = true;
    cancel();
    await inner.return?.();
  };
  return {
    async next() {
      if (ended) return { done: true, value: undefined };
      const expired = new Promise<'expired'>((resolve) => {
        if (past) resolve('expired');
        else wake = () => resolve('expired');
      });
      let r: IteratorResult<ExecutionResult> | 'expired';
      try {
        r = await Promise.race([inner.next(), expired]);
      } finally {
        wake = undefined;
      }
      // A result that came in after the expiry, before the timer ran, is not sent.
      if (r !== 'expired' && (r.done || Date.now() < expiresAt)) {
        if (r.done) {
          ended = true;
          cancel();
        }
        return r;
      }
      await end();
      return { done: false, value: tokenExpiredResult() };
    },
    async return() {
      if (!ended) await end();
      return { done: true, value: undefined };
    },
    // With `throw` too: graphql-sse closes only what looks like a generator when the client goes.
    async throw(err: unknown) {
      if (!ended) await end();
      throw err;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
