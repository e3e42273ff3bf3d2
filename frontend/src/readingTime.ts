/**
 * Reading time is the time the tab was visible (document.visibilityState is
 * "visible") since the page loaded. A hidden tab, a minimised window or a
 * locked screen does not count.
 */

export class VisibleTimeTracker {
  private readonly now: () => number;
  private accumulatedMs = 0;
  private visibleSinceMs: number | null;

  /**
   * @param now Monotonic clock in milliseconds, e.g. `() => performance.now()`.
   * @param visible Whether the page is visible when tracking starts.
   * @param startMs Clock time from which a visible page counts. Defaults to now.
   */
  constructor(now: () => number, visible: boolean, startMs?: number) {
    this.now = now;
    this.visibleSinceMs = visible ? (startMs ?? now()) : null;
  }

  /** Records a visibility change. Repeated calls with the same state change nothing. */
  setVisible(visible: boolean): void {
    if (visible && this.visibleSinceMs === null) {
      this.visibleSinceMs = this.now();
    } else if (!visible && this.visibleSinceMs !== null) {
      this.accumulatedMs += this.now() - this.visibleSinceMs;
      this.visibleSinceMs = null;
    }
  }

  visibleMilliseconds(): number {
    const running = this.visibleSinceMs === null ? 0 : this.now() - this.visibleSinceMs;
    return this.accumulatedMs + running;
  }

  /** Whole seconds visible, rounded down. */
  visibleSeconds(): number {
    return Math.floor(this.visibleMilliseconds() / 1000);
  }
}
