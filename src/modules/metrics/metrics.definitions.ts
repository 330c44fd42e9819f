import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import {
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { HandoffService } from '../replay/handoff.service';
import type { NodeStatus } from '../replay/node-status.interface';

/**
 * Every Prometheus metric of hinted handoff, in one place. Names are the public contract of
 * dashboards and alerts: change them only with a changelog entry.
 */
export const METRIC = {
  queueEntries: 'hh_queue_entries',
  queueBytes: 'hh_queue_bytes',
  queueDiskBytes: 'hh_queue_disk_bytes',
  queueOldestAge: 'hh_queue_oldest_age_seconds',
  queueMaxBytes: 'hh_queue_max_bytes',
  queueOpen: 'hh_queue_open',
  appendedBytes: 'hh_appended_bytes_total',
  appendedEntries: 'hh_appended_entries_total',
  replayedBytes: 'hh_replayed_bytes_total',
  replayedEntries: 'hh_replayed_entries_total',
  replayErrors: 'hh_replay_errors_total',
  deadLetterEntries: 'hh_dead_letter_entries_total',
  purgedEntries: 'hh_purged_entries_total',
  corruptBytes: 'hh_corrupt_bytes_total',
  missingSegments: 'hh_missing_segments_total',
  queueReopen: 'hh_queue_reopen_total',
  queueFull: 'hh_queue_full_total',
  nodeUp: 'hh_node_up',
  replayBackoff: 'hh_replay_backoff_seconds',
  replayLeaseHeld: 'hh_replay_lease_held',
  natsConnected: 'hh_nats_connected',
  httpRequests: 'hh_http_requests_total',
  httpRequestDuration: 'hh_http_request_duration_seconds',
} as const;

/**
 * A queue gauge read at scrape time from the service: nothing polls, and a scrape always sees
 * the exact backlog. Reset first so a node that went away does not keep its last value.
 * The service is looked up at scrape time rather than injected: it depends on REPLAY_METRICS,
 * which this module provides, so injecting it here would make the two modules a cycle.
 */
export function findHandoffService(moduleRef: ModuleRef): HandoffService | undefined {
  try {
    return moduleRef.get(HandoffService, { strict: false });
  } catch {
    // No HandoffService in this app (metrics imported alone): the queue gauges stay empty.
    return undefined;
  }
}

function queueGauge(
  name: string,
  help: string,
  value: (status: NodeStatus) => number | null,
): Provider {
  return makeGaugeProvider({
    name,
    help,
    labelNames: ['node'],
    inject: [ModuleRef],
    collect(this: Gauge<string>, moduleRef: ModuleRef) {
      this.reset();
      const handoff = findHandoffService(moduleRef);
      if (!handoff) return;
      for (const status of handoff.nodes()) {
        const v = value(status);
        if (v !== null) this.set({ node: status.id }, v);
      }
    },
  });
}

/** Metrics of the queues and the replay loop: what the library provides and exports. */
export const HANDOFF_METRIC_PROVIDERS: Provider[] = [
  queueGauge(
    METRIC.queueEntries,
    'Unread entries in the node’s hand-off queue.',
    (s) => s.backlog.entries,
  ),
  queueGauge(
    METRIC.queueBytes,
    'Unread payload bytes in the node’s hand-off queue.',
    (s) => s.backlog.bytes,
  ),
  queueGauge(
    METRIC.queueDiskBytes,
    'Bytes on disk of the node’s queue segments.',
    (s) => s.diskBytes,
  ),
  // An empty queue reports 0 rather than no sample, so an alert on the age never goes stale.
  queueGauge(
    METRIC.queueOldestAge,
    'Age in seconds of the oldest unread entry of the node’s queue (0 when empty).',
    (s) => s.backlog.oldestAgeSeconds ?? 0,
  ),
  // HH_MAX_SIZE as a series, so "queue above 80 %" is one expression in an alert.
  queueGauge(
    METRIC.queueMaxBytes,
    'HH_MAX_SIZE: the most bytes the node’s queue may hold.',
    (s) => s.maxSize,
  ),
  queueGauge(
    METRIC.queueOpen,
    '1 when the node’s queue is open and takes hand-offs, 0 when closed or failed.',
    (s) => (s.open ? 1 : 0),
  ),
  // Which relay replays which node. On disk, the relay owning the directory always does.
  queueGauge(
    METRIC.replayLeaseHeld,
    '1 while this relay replays the node: it holds the node’s replay lease (JetStream store), or owns its queue (disk store).',
    (s) => (s.lease ? (s.lease.held ? 1 : 0) : 1),
  ),
  makeGaugeProvider({
    name: METRIC.natsConnected,
    help: '1 while the relay is connected to NATS, 0 while reconnecting (JetStream store only).',
    inject: [ModuleRef],
    collect(this: Gauge<string>, moduleRef: ModuleRef) {
      this.reset();
      const store = findHandoffService(moduleRef)?.store?.();
      if (store?.kind === 'jetstream') this.set(store.nats === 'connected' ? 1 : 0);
    },
  }),
  makeCounterProvider({
    name: METRIC.appendedBytes,
    help: 'Payload bytes handed off (appended to the node’s queue).',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.appendedEntries,
    help: 'Entries handed off (appended to the node’s queue).',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.replayedBytes,
    help: 'Payload bytes replayed to the node.',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.replayedEntries,
    help: 'Entries replayed to the node.',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.replayErrors,
    help: 'Failed replay attempts, by kind (transient, permanent, timeout, network).',
    labelNames: ['node', 'kind'],
  }),
  makeCounterProvider({
    name: METRIC.deadLetterEntries,
    help: 'Entries the node refused for good, moved to its dead-letter queue.',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.purgedEntries,
    help: 'Entries dropped without delivery, by reason (age, operator, inactive-node).',
    labelNames: ['node', 'reason'],
  }),
  makeCounterProvider({
    name: METRIC.corruptBytes,
    help: 'Bytes of corrupt records skipped (kept under the queue’s corrupt/ directory).',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.missingSegments,
    help: 'Segment files found missing from the middle or the end of the node’s queue at open.',
    labelNames: ['node'],
  }),
  makeCounterProvider({
    name: METRIC.queueReopen,
    help: 'Attempts to reopen the node’s failed queue, by outcome (ok, failed).',
    labelNames: ['node', 'outcome'],
  }),
  makeCounterProvider({
    name: METRIC.queueFull,
    help: 'Hand-offs refused because the node’s queue was full.',
    labelNames: ['node'],
  }),
  makeGaugeProvider({
    name: METRIC.nodeUp,
    help: '1 when the last write or replay to the node succeeded, 0 when it failed.',
    labelNames: ['node'],
  }),
  makeGaugeProvider({
    name: METRIC.replayBackoff,
    help: 'Current back-off delay in seconds before the next replay attempt (0 when none).',
    labelNames: ['node'],
  }),
];

/** Metrics of the JetStream store only: a disk-store relay has no sample of them. */
export const JETSTREAM_METRIC_NAMES: readonly string[] = [METRIC.natsConnected];

/** Names of the metrics above with a sample on every store (JETSTREAM_METRIC_NAMES aside). */
export const HANDOFF_METRIC_NAMES: readonly string[] = Object.values(METRIC).filter(
  (name) =>
    name !== METRIC.httpRequests &&
    name !== METRIC.httpRequestDuration &&
    !JETSTREAM_METRIC_NAMES.includes(name),
);

/** Request metrics of an HTTP app (the relay): by method, route pattern and status code. */
export const HTTP_METRIC_PROVIDERS: Provider[] = [
  makeCounterProvider({
    name: METRIC.httpRequests,
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'code'],
  }),
  makeHistogramProvider({
    name: METRIC.httpRequestDuration,
    help: 'HTTP request latency in seconds, by method, route and status code.',
    labelNames: ['method', 'route', 'code'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  }),
];

export const HTTP_METRIC_NAMES: readonly string[] = [
  METRIC.httpRequests,
  METRIC.httpRequestDuration,
];
