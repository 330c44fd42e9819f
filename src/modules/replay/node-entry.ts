import type { HandoffQueue } from '../queue/handoff-queue.contract';
import type { NodeLease } from '../jetstream/node-lease';
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
  queue: HandoffQueue;
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
  /** The node's replay lease (JetStream store): only its holder replays. None on disk. */
  lease?: NodeLease;
}

/** This relay may replay the node now: the disk store always, JetStream while it holds the lease. */
export function mayReplay(entry: NodeEntry): boolean {
  return entry.lease?.isHeld() ?? true;
}

export function queueOf(entry: NodeEntry): HandoffQueue {
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
