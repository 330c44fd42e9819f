/** The records one replay step passes around: what it delivered, and what it still owes. */

/** Entries a node took whose advance failed: passed before anything else is sent. */
export interface Owed {
  entries: number;
  bytes: number;
  /** The head when the advance failed: only from there are these the entries meant. */
  at: { segment: number; offset: number };
  /** The reading stint it belongs to: after a lost lease, someone else may have moved the head. */
  stint: number;
  /** Counted as replayed once passed (false: dead-lettered, already counted). */
  replayed: boolean;
}

export interface StepResult {
  /** Payload bytes the node accepted. */
  bytes: number;
  /** Entries that left the queue (accepted or dead-lettered). */
  entries: number;
}

export interface PipelineResult extends StepResult {
  /** False once the queue was found empty, or the replayer closes. */
  more: boolean;
}

export type Settled<T> = { value: T } | { error: unknown };

/** A promise that never rejects (so a read-ahead that is dropped is no unhandled rejection). */
export function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** Payload bytes of a batch. */
export function sumBytes(buffers: Buffer[]): number {
  let n = 0;
  for (const b of buffers) n += b.length;
  return n;
}
