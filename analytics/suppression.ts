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
 * away by subtraction, so one more of its cells is suppressed. The one chosen is the cell
 * that leaves the fewest other lines with a single hidden cell (preferring one that pairs up
 * with a cell hidden already), then the smallest, then the first in key order. That can
 * still leave another line with one hidden cell, so it repeats until no line has exactly
 * one. Cells are returned in the order given.
 */
export function suppressSmallCells(cells: readonly CountedCell[], threshold: number): PublishedCell[] {
  const hidden = cells.map((c) => c.count < threshold);
  const dims = cells[0]?.keys.length ?? 0;
  // lineOf[d][i]: the line of cell i along dimension d (cells sharing every key but d).
  const lines: number[][][] = [];
  const lineOf: number[][] = [];
  for (let d = 0; d < dims; d++) {
    const byKey = new Map<string, number[]>();
    lineOf[d] = cells.map((c, i) => {
      const key = JSON.stringify(c.keys.filter((_, j) => j !== d));
      let line = byKey.get(key);
      if (!line) byKey.set(key, (line = []));
      line.push(i);
      return 0;
    });
    lines[d] = [...byKey.values()];
    lines[d]!.forEach((line, l) => line.forEach((i) => (lineOf[d]![i] = l)));
  }
  const hiddenIn = (line: number[]) => line.filter((i) => hidden[i]).length;
  const cost = (i: number, along: number) => {
    let c = 0;
    for (let d = 0; d < dims; d++) {
      if (d === along) continue;
      const line = lines[d]![lineOf[d]![i]!]!;
      if (line.length < 2) continue;
      const h = hiddenIn(line);
      if (h === 0) c += 1; // would leave that line with one hidden cell
      else if (h === 1) c -= 1; // would mend that line
    }
    return c;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let d = 0; d < dims; d++) {
      for (const line of lines[d]!) {
        if (hiddenIn(line) !== 1) continue;
        const shown = line.filter((i) => !hidden[i]);
        if (shown.length === 0) continue;
        const pick = shown
          .map((i) => ({ i, cost: cost(i, d) }))
          .reduce((a, b) => (b.cost < a.cost || (b.cost === a.cost && cells[b.i]!.count < cells[a.i]!.count) ? b : a));
        hidden[pick.i] = true;
        changed = true;
      }
    }
  }
  return cells.map((c, i) => (hidden[i] ? { keys: c.keys, count: null, suppressed: true } : { keys: c.keys, count: c.count, suppressed: false }));
}
