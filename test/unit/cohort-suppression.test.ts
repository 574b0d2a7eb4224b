import { describe, expect, it } from 'vitest';
import { suppressSmallCells } from '../../analytics/suppression.js';

const cells = (rows: [string[], number][]) => rows.map(([keys, count]) => ({ keys, count }));
const shown = (rows: ReturnType<typeof suppressSmallCells>) => rows.map((r) => (r.suppressed ? null : r.count));

describe('small-cell suppression', () => {
  it('suppresses every cell under the threshold and nothing else when two or more are hidden', () => {
    const out = suppressSmallCells(cells([[['female'], 40], [['male'], 3], [['other'], 2]]), 11);
    expect(out).toEqual([
      { keys: ['female'], count: 40, suppressed: false },
      { keys: ['male'], count: null, suppressed: true },
      { keys: ['other'], count: null, suppressed: true },
    ]);
  });

  it('suppresses the next smallest cell when one hidden cell could be had from the total', () => {
    // total 80 is published: 80 - 40 - 30 would give the 5 away.
    expect(shown(suppressSmallCells(cells([[['a'], 40], [['b'], 30], [['c'], 5], [['d'], 12]]), 11))).toEqual([40, 30, null, null]);
    // Ties go to the first in key order.
    expect(shown(suppressSmallCells(cells([[['a'], 12], [['b'], 12], [['c'], 1]]), 11))).toEqual([null, 12, null]);
  });

  it('leaves everything when nothing is small, and a cell at the threshold is shown', () => {
    expect(shown(suppressSmallCells(cells([[['a'], 11], [['b'], 50]]), 11))).toEqual([11, 50]);
    expect(suppressSmallCells([], 11)).toEqual([]);
  });

  it('protects rows and columns of a two-dimension table, repeating until no line has one hidden cell', () => {
    //            0-9   10-19  20-29
    //   female    20     5     30
    //   male      25    40     13
    // Primary: female/10-19 (5). Column 10-19 then has one hidden cell: male/10-19 (40, the
    // only other) goes. Row female: 20 and 30 would each leave their column with one hidden
    // cell; 20 is smaller. Row male: 25 pairs with the hidden 20 in column 0-9, while 13
    // would leave column 20-29 with one: 25 goes. Every line now has 0 or 2 hidden cells.
    const table = cells([
      [['female', '0-9'], 20],
      [['female', '10-19'], 5],
      [['female', '20-29'], 30],
      [['male', '0-9'], 25],
      [['male', '10-19'], 40],
      [['male', '20-29'], 13],
    ]);
    expect(shown(suppressSmallCells(table, 11))).toEqual([null, null, 30, null, null, 13]);
  });

  it('does not hide the only cell of a line again (its margin is small and hidden itself)', () => {
    const out = suppressSmallCells(cells([[['female', '0-9'], 30], [['female', '10-19'], 15], [['other', '0-9'], 2]]), 11);
    // Column 0-9: other/0-9 hidden alone, female/0-9 (30) goes; row female then has one
    // hidden (30), so female/10-19 goes as well.
    expect(shown(out)).toEqual([null, null, null]);
  });

  it('with threshold 1 shows every count', () => {
    expect(shown(suppressSmallCells(cells([[['a'], 1], [['b'], 2]]), 1))).toEqual([1, 2]);
  });
});
