import { isPseudonym, type Pseudonymizer } from './pseudonym.js';

/** One known unified patient, as the index lists them. */
export interface KnownPatient {
  id: string;
  createdAt: Date;
}

/** Lists unified patients created at or after `since` (all of them when null). */
export type ListPatientsSince = (since: Date | null) => Promise<KnownPatient[]>;

// A row written in a transaction that started before the last scan may commit with an
// earlier created_at than rows already seen; re-reading this much overlap catches it.
const OVERLAP_MS = 60_000;

/**
 * Turns patient pseudonyms back into unified ids for the gateway itself (an analyst asks
 * for `patient(id: <pseudonym>)`). HMAC cannot be inverted, so the map is built forwards:
 * every known unified id is hashed once, and on a miss only the patients created since the
 * last scan are read and hashed. Only the holder of the key can build it.
 */
export class PseudonymIndex {
  private readonly byPseudonym = new Map<string, string>();
  private lastSeen: Date | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly pseudonyms: Pseudonymizer,
    private readonly listSince: ListPatientsSince,
  ) {}

  /** Unified ids for the pseudonyms, in order; null for one that names no known patient. */
  async resolve(pseudonyms: readonly string[]): Promise<(string | null)[]> {
    if (pseudonyms.some((p) => isPseudonym(p) && !this.byPseudonym.has(p))) await this.refresh();
    return pseudonyms.map((p) => (isPseudonym(p) ? (this.byPseudonym.get(p) ?? null) : null));
  }

  /** Reads patients created since the last scan; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.refreshing ??= this.scan().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async scan(): Promise<void> {
    const since = this.lastSeen ? new Date(this.lastSeen.getTime() - OVERLAP_MS) : null;
    const rows = await this.listSince(since);
    for (const row of rows) {
      this.byPseudonym.set(this.pseudonyms.patientId(row.id), row.id);
      if (!this.lastSeen || row.createdAt > this.lastSeen) this.lastSeen = row.createdAt;
    }
  }
}
