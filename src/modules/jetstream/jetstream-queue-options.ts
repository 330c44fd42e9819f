/** How a JetStreamQueue is set up: its stream's limits, timings, and which stream it is. */
export interface JetStreamQueueOptions {
  /** The stream's max_bytes (discard new: a full stream refuses appends). Default 10 GiB. */
  maxSize?: number;
  /** The stream's max_age in ms; the server drops older entries. 0 (default): none. */
  maxAgeMs?: number;
  /** Copies of the stream in the cluster: 1, 3 or 5 (default 1). */
  replicas?: number;
  /** How long an append may wait for JetStream's ack, retries included (default 5 s). */
  publishTimeoutMs?: number;
  /** How often backlog()/diskUsage() are refreshed from the stream's state (default 1 s). */
  refreshIntervalMs?: number;
  /** The node's dead letters instead of its hints (their own stream). */
  deadLetters?: boolean;
  /** Told how many entries the server expired (max_age) past this reader's head. */
  onExpired?: (entries: number) => void;
}
