import type { GraphQLFormattedError } from 'graphql';
import { ChartgraphError } from '../errors/errors.js';

type Path = ReadonlyArray<string | number>;

/**
 * Errors of one request that did not stop a field from answering: a source that failed
 * while others answered. Resolvers add them; a server plugin appends them to the
 * response's `errors`, so the client gets the partial data and knows what is missing.
 */
export class PartialErrors {
  private readonly seen = new Set<string>();
  private readonly errors: GraphQLFormattedError[] = [];

  add(error: ChartgraphError, path: Path): void {
    const key = `${error.message}\u0000${path.join('.')}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.errors.push({ message: error.message, path: [...path], extensions: { ...error.extensions } });
  }

  get list(): readonly GraphQLFormattedError[] {
    return this.errors;
  }
}

/** Turns `info.path` (a linked list) into an array. */
export function pathOf(path: { prev: unknown; key: string | number } | undefined): (string | number)[] {
  const out: (string | number)[] = [];
  for (let p = path as { prev?: unknown; key: string | number } | undefined; p; p = p.prev as typeof p) out.unshift(p.key);
  return out;
}
