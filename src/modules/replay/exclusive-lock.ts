/**
 * Runs async sections one at a time, in call order. The replayer sends, dead-letters and
 * purges under it, because each of them moves the queue head and a batch in flight must still
 * be at the head when it is acknowledged.
 */
export class ExclusiveLock {
  private tail: Promise<unknown> = Promise.resolve();
  private holders = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.holders++;
    const turn = this.tail.then(fn).finally(() => this.holders--);
    // A failed section must not poison the sections queued after it.
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** True while a section runs or waits. */
  busy(): boolean {
    return this.holders > 0;
  }

  /** Resolves once every section queued so far has settled. */
  async idle(): Promise<void> {
    await this.tail;
  }
}
