import type { DiskBackedQueue } from '../queue/disk-backed-queue';
import type { NodeClient } from './node-client.interface';
import type { WriteReplayer } from './write-replayer';

/** One node of the hand-off service: its queue's replayer, where it sends, and its run state. */
export interface NodeEntry {
  id: string;
  url?: string;
  configured: boolean;
  /** Where this node's batches go; undefined for an inactive node nobody can reach. */
  client?: NodeClient;
  /** The node's hand-off queue; its replayer reads and advances it, everyone else only looks. */
  queue: DiskBackedQueue;
  replayer: WriteReplayer;
  paused: boolean;
  /** A scheduled replay run is in progress (its timer already fired). */
  running: boolean;
  /** An inactive node's directory is being deleted. */
  retiring?: boolean;
  /** Settles once the deletion is over and the entry is gone from the map. */
  retirement?: Promise<void>;
  /** node.json could not be written (full disk): the retry sweep writes it. */
  recordPending?: boolean;
}

export function queueOf(entry: NodeEntry): DiskBackedQueue {
  return entry.queue;
}

/** The node's queue holds entries. Throws QueueNotOpenError while it is closed (a failed reopen). */
export function holdsEntries(entry: NodeEntry): boolean {
  return queueOf(entry).backlog().entries > 0;
}

/** The node's queue is open and holds entries. */
export function openWithEntries(entry: NodeEntry): boolean {
  return queueOf(entry).isOpen() && holdsEntries(entry);
}
