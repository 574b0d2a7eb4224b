/**
 * How long one GraphQL request's answer stays what the caches would answer again: until the
 * first of the cached copies it was built from expires. An answer that needed a source, or
 * a copy already past its TTL (served while it refreshes), has no such time.
 */
export class AnswerFreshness {
  private until = Number.POSITIVE_INFINITY;
  private spoiled = false;

  /** A part of the answer was a fresh cached copy, good until `expiresAt` (epoch ms). */
  servedFromCache(expiresAt: number): void {
    if (expiresAt < this.until) this.until = expiresAt;
  }

  /** A part of the answer did not come from a fresh cached copy. */
  notFromCache(): void {
    this.spoiled = true;
  }

  /** Epoch ms until which the whole answer is fresh (Infinity when no cached copy was read); 0 when it is not from the caches. */
  get freshUntil(): number {
    return this.spoiled ? 0 : this.until;
  }
}
