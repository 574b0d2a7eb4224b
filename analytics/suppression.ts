/** One breakdown group before suppression. */
export interface CountedCell {
  keys: string[];
  count: number;
}

/** One breakdown cell as an analyst receives it. */
export interface PublishedCell {
  keys: string[];
  /** Null when suppressed. */
  count: number | null;
  suppressed: boolean;
}

/**
 * Small-cell suppression with complementary suppression (the CMS cell-size rule: counts
 * from 1 to threshold - 1 are not published). Primary: every cell under `threshold` is
 * suppressed. Complementary: for each dimension, the cells that share every other key form
 * a line whose total is published elsewhere (the cohort's total for one dimension, a cell of
 * the smaller breakdown for several); a line with exactly one suppressed cell would give it
 * away by subtraction, so its smallest published cell is suppressed too (ties: first in key
 * order). That can leave another line with one suppressed cell, so it repeats until no line
 * has exactly one. Cells are returned in the order given.
 */
export function suppressSmallCells(cells: readonly CountedCell[], threshold: number): PublishedCell[] {
  const hidden = cells.map((c) => c.count < threshold);
  const dims = cells[0]?.keys.length ?? 0;
  for (let changed = true; changed; ) {
    changed = false;
    for (let d = 0; d < dims; d++) {
      const lines = new Map<string, number[]>();
      cells.forEach((c, i) => {
        const key = JSON.stringify(c.keys.filter((_, j) => j !== d));
        let line = lines.get(key);
        if (!line) lines.set(key, (line = []));
        line.push(i);
      });
      for (const line of lines.values()) {
        if (line.filter((i) => hidden[i]).length !== 1) continue;
        const shown = line.filter((i) => !hidden[i]);
        if (shown.length === 0) continue;
        const smallest = shown.reduce((a, b) => (cells[b]!.count < cells[a]!.count ? b : a));
        hidden[smallest] = true;
        changed = true;
      }
    }
  }
  return cells.map((c, i) => (hidden[i] ? { keys: c.keys, count: null, suppressed: true } : { keys: c.keys, count: c.count, suppressed: false }));
}
