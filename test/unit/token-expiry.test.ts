import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { untilTokenExpiry } from '../../server/token-expiry.js';

// A real collection, not a count of handlers: what matters is that a result sent is freed.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A source that hands out `n` results, each a fresh object, as a live stream would. */
function source(n: number): AsyncIterable<ExecutionResult> {
  let i = 0;
  return {
    [Symbol.asyncIterator]: () => ({
      next: async () => (i < n ? { done: false, value: { data: { n: i++, padding: 'x'.repeat(1024) } } } : { done: true, value: undefined }),
    }),
  };
}

describe('untilTokenExpiry', () => {
  it('keeps none of the results it passed on while the token is still live', async () => {
    const refs: WeakRef<object>[] = [];
    const stream = untilTokenExpiry(source(50), Date.now() + 3_600_000);
    await (async () => {
      for (let i = 0; i < 50; i++) {
        const r = await stream.next();
        expect(r.done).toBe(false);
        refs.push(new WeakRef(r.value as object));
      }
    })();
    // WeakRefs hold their target until the current job ends.
    await new Promise((r) => setImmediate(r));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('still ends a stream waiting on its source when the token expires, with the expiry result', async () => {
    const never: AsyncIterable<ExecutionResult> = { [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}), return: async () => ({ done: true, value: undefined }) }) };
    const stream = untilTokenExpiry(never, Date.now() + 50);
    const r = await stream.next();
    expect(r.value.errors.map((e: any) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
