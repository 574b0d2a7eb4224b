import { ArgsType, Field, Int } from 'type-graphql';
import type { ConnectionShape, PageInfo } from '../schema/connection.types.js';
import { BadUserInputError } from '../errors/errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: `How many items to return (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Return the items after this cursor (a previous page’s `pageInfo.endCursor`).' })
  after?: string | null;
}

const CURSOR_PREFIX = 'cg:';

function encodeCursor(offset: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const digits = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  // Only what encodeCursor writes: plain decimal digits (no `1e3`, ` 1`, `01`), and the
  // cursor in its canonical encoding (base64url decoding skips characters it does not know).
  const offset = /^(0|[1-9]\d{0,8})$/.test(digits) ? Number(digits) : NaN;
  if (!Number.isInteger(offset) || encodeCursor(offset) !== cursor) {
    throw new BadUserInputError('`after` is not a cursor this API gave out', { argument: 'after' });
  }
  return offset;
}

/**
 * Which slice of an ordered list a page asks for: validated `first` (at most `max`), and
 * the start after `after`. Resolvers call it before any upstream work, so a bad page
 * argument costs nothing.
 */
export function pageWindow(args: PageArgs, max = MAX_PAGE_SIZE): { start: number; first: number } {
  const first = args.first ?? Math.min(DEFAULT_PAGE_SIZE, max);
  if (first < 0 || first > max) {
    throw new BadUserInputError(`\`first\` must be between 0 and ${max}`, { argument: 'first' });
  }
  return { start: args.after ? decodeCursor(args.after) + 1 : 0, first };
}

/** What {@link paginate} cuts pages from: an array, or a list that orders and maps only the items a page takes. */
export interface PagedList<T> {
  readonly length: number;
  slice(start: number, end: number): T[];
}

/**
 * A page whose cursors are encoded only when asked for: most clients read `nodes` and
 * `totalCount`, and an edge object and a base64 cursor per item were a good part of the
 * allocation of a cached query. The nodes themselves may be taken only when asked for
 * (a dashboard reading `totalCount` alone takes none).
 */
class PageConnection<T> implements ConnectionShape<T> {
  private edgeList: { cursor: string; node: T }[] | undefined;
  private nodeList: T[] | undefined;

  constructor(
    private readonly page: T[] | (() => T[]),
    private readonly start: number,
    readonly totalCount: number,
    /** How many nodes the page holds. */
    private readonly size: number,
  ) {}

  get nodes(): T[] {
    return (this.nodeList ??= typeof this.page === 'function' ? this.page() : this.page);
  }

  get edges(): { cursor: string; node: T }[] {
    return (this.edgeList ??= this.nodes.map((node, i) => ({ cursor: encodeCursor(this.start + i), node })));
  }

  get pageInfo(): PageInfo {
    const { start, size, totalCount } = this;
    return {
      hasNextPage: start + size < totalCount,
      hasPreviousPage: start > 0,
      startCursor: size > 0 ? encodeCursor(start) : null,
      endCursor: size > 0 ? encodeCursor(start + size - 1) : null,
    };
  }
}

/** A Relay connection over one page of nodes that starts at `start` in a list of `total`. */
export function connectionFrom<T>(page: readonly T[], start: number, total: number): ConnectionShape<T> {
  return new PageConnection([...page], start, total, page.length);
}

/**
 * Cuts one Relay page out of a complete, ordered list. Cursors are positions in that list.
 * The page is taken from the list only when its nodes or edges are read.
 */
export function paginate<T>(items: PagedList<T>, args: PageArgs): ConnectionShape<T> {
  const { start, first } = pageWindow(args);
  const total = items.length;
  const size = Math.max(0, Math.min(start + first, total) - start);
  // The slice is already this page's own array.
  return new PageConnection(() => items.slice(start, start + first), start, total, size);
}
