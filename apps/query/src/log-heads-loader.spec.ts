import { fallbackRanges } from './log-heads-loader';

// Where the loader pages below a quorum candidate whose rows do not verify: only what the heads
// statement searched (docs/design/query.md "Log heads"), so that a log whose cosigners fell short
// costs a window a read, not its history.
describe('fallbackRanges', () => {
  it('a full search: everything from the floor (or part 0) up to the candidate', () => {
    expect(fallbackRanges({ full: true }, 1_000, 900, 64)).toEqual([[0, 900]]);
    expect(fallbackRanges({ floor: 10, full: true }, 1_000, 900, 64)).toEqual([[10, 900]]);
    expect(fallbackRanges({ floor: 900, full: true }, 1_000, 900, 64)).toEqual([]);
  });

  it('a bounded search: the top window below the candidate, then the window above the floor', () => {
    // Top window: parts 937..1000; floor window: 10..73.
    expect(fallbackRanges({ floor: 10, full: false }, 1_000, 990, 64)).toEqual([
      [937, 990],
      [10, 74],
    ]);
    // No floor: the top window only.
    expect(fallbackRanges({ full: false }, 1_000, 990, 64)).toEqual([[937, 990]]);
    // The candidate in the floor's window: only below it there.
    expect(fallbackRanges({ floor: 10, full: false }, 1_000, 40, 64)).toEqual([[10, 40]]);
  });

  it('windows that overlap (a short log, or a floor near the top) are paged once', () => {
    expect(fallbackRanges({ floor: 950, full: false }, 1_000, 990, 64)).toEqual([[950, 990]]);
    expect(fallbackRanges({ floor: 900, full: false }, 1_000, 990, 64)).toEqual([
      [937, 990],
      [900, 937],
    ]);
    expect(fallbackRanges({ full: false }, 20, 15, 64)).toEqual([[0, 15]]);
  });
});
