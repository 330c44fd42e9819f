import type { Clock } from './clock';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { ReplayLogger } from './replay-logger';

/** How one node's replayer sends, backs off and purges; every field has a default. */
export interface WriteReplayerOptions {
  /** First back-off delay (seed: retry interval), ms. */
  retryIntervalMs?: number;
  /** Back-off ceiling (seed: max retry interval), ms. */
  retryMaxIntervalMs?: number;
  /** Entries older than this are dropped by `purgeOld()`, ms. */
  maxAgeMs?: number;
  /** Replay bytes per second; <= 0 does not limit. */
  retryRateLimit?: number;
  /** Most bytes peeked into one send (one entry is always taken, whatever its size). */
  replayBatchBytes?: number;
  /** Optional cap on entries per send. */
  replayBatchEntries?: number;
  /**
   * Concurrent sends per batch when the client says how its entries partition (`partition`);
   * default 1 (strict order). Clients that lane on their own (the relay's) ignore it.
   */
  replayLanes?: number;
  /** Where refused writes go; without one, a refused write stays at the head (and is retried). */
  deadLetters?: DeadLetterQueue;
  /**
   * Asked before each batch and before each advance: false while another relay holds the node's
   * replay lease (JetStream store), and nothing is read, sent or advanced. Default: always.
   */
  mayReplay?: () => boolean;
  logger?: ReplayLogger;
  /** Back-off jitter share (see Backoff); default 0.5. */
  jitter?: number;
  random?: () => number;
  clock?: Clock;
}
