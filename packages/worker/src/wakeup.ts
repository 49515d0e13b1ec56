/** An abortable sleep: the worker loop waits on it, and NOTIFY, a freed slot or shutdown wake it early. */
export class Wakeup {
  private resolve: (() => void) | undefined;
  private pending = false;

  /** Resolves after `ms`, or at once when `wake()` was called since the last wait (no wake-up is ever lost). */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.resolve = undefined;
        resolve();
      }
      this.resolve = done;
    });
  }

  wake(): void {
    if (this.resolve) this.resolve();
    else this.pending = true;
  }
}
