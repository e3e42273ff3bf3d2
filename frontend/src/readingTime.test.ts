import { describe, expect, it } from 'vitest';

import { VisibleTimeTracker } from './readingTime';

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1000;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

describe('VisibleTimeTracker', () => {
  it('counts time while visible', () => {
    const clock = fakeClock();
    const tracker = new VisibleTimeTracker(clock.now, true);

    clock.advance(2500);

    expect(tracker.visibleMilliseconds()).toBe(2500);
    expect(tracker.visibleSeconds()).toBe(2);
  });

  it('stops counting while hidden', () => {
    const clock = fakeClock();
    const tracker = new VisibleTimeTracker(clock.now, true);

    clock.advance(3000);
    tracker.setVisible(false);
    clock.advance(60_000);
    tracker.setVisible(true);
    clock.advance(1500);

    expect(tracker.visibleMilliseconds()).toBe(4500);
    expect(tracker.visibleSeconds()).toBe(4);
  });

  it('starts at zero when loaded in a hidden tab', () => {
    const clock = fakeClock();
    const tracker = new VisibleTimeTracker(clock.now, false);

    clock.advance(10_000);
    expect(tracker.visibleSeconds()).toBe(0);

    tracker.setVisible(true);
    clock.advance(1000);
    expect(tracker.visibleSeconds()).toBe(1);
  });

  it('counts from an earlier start time', () => {
    const clock = fakeClock();
    const tracker = new VisibleTimeTracker(clock.now, true, 0);

    clock.advance(500);

    expect(tracker.visibleMilliseconds()).toBe(1500);
  });

  it('ignores repeated events with the same state', () => {
    const clock = fakeClock();
    const tracker = new VisibleTimeTracker(clock.now, true);

    clock.advance(1000);
    tracker.setVisible(true);
    clock.advance(1000);
    tracker.setVisible(false);
    tracker.setVisible(false);
    clock.advance(5000);

    expect(tracker.visibleMilliseconds()).toBe(2000);
  });
});
