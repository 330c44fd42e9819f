import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge } from 'prom-client';
import type {
  PurgeReason,
  ReplayErrorKind,
  ReplayMetrics,
} from '../replay/replay-metrics.interface';
import { findHandoffService, METRIC } from './metrics.definitions';

const ERROR_KINDS: readonly ReplayErrorKind[] = ['transient', 'permanent', 'timeout', 'network'];
const REOPEN_OUTCOMES = ['ok', 'failed'] as const;
const PURGE_REASONS: readonly PurgeReason[] = ['age', 'operator', 'inactive-node'];

/**
 * The replay side's metrics interface bound to the prom-client metrics. Every series of every
 * node exists from start-up (counters at 0, the node up, no back-off): a rate or an alert over a
 * counter that has never moved would otherwise have no data until the first failure.
 */
@Injectable()
export class PrometheusReplayMetrics implements ReplayMetrics, OnApplicationBootstrap {
  /** Nodes whose series exist; a node added at run time gets them at its first event. */
  private readonly seeded = new Set<string>();

  constructor(
    private readonly moduleRef: ModuleRef,
    @InjectMetric(METRIC.appendedEntries) private readonly appendedEntries: Counter<string>,
    @InjectMetric(METRIC.appendedBytes) private readonly appendedBytes: Counter<string>,
    @InjectMetric(METRIC.replayedEntries) private readonly replayedEntries: Counter<string>,
    @InjectMetric(METRIC.replayedBytes) private readonly replayedBytes: Counter<string>,
    @InjectMetric(METRIC.replayErrors) private readonly replayErrors: Counter<string>,
    @InjectMetric(METRIC.deadLetterEntries) private readonly deadLetterEntries: Counter<string>,
    @InjectMetric(METRIC.purgedEntries) private readonly purgedEntries: Counter<string>,
    @InjectMetric(METRIC.queueFull) private readonly queueFullTotal: Counter<string>,
    @InjectMetric(METRIC.corruptBytes) private readonly corruptBytes: Counter<string>,
    @InjectMetric(METRIC.missingSegments) private readonly missingSegmentsTotal: Counter<string>,
    @InjectMetric(METRIC.queueReopen) private readonly queueReopenTotal: Counter<string>,
    @InjectMetric(METRIC.nodeUp) private readonly nodeUpGauge: Gauge<string>,
    @InjectMetric(METRIC.replayBackoff) private readonly backoffGauge: Gauge<string>,
  ) {}

  /** After the queues opened (HandoffService.onModuleInit): every known node gets its series. */
  onApplicationBootstrap(): void {
    for (const status of findHandoffService(this.moduleRef)?.nodes() ?? []) this.seed(status.id);
  }

  /** Creates the node's series at their resting values, once. */
  private seed(nodeId: string): void {
    if (this.seeded.has(nodeId)) return;
    this.seeded.add(nodeId);
    const node = { node: nodeId };
    for (const counter of [
      this.appendedEntries,
      this.appendedBytes,
      this.replayedEntries,
      this.replayedBytes,
      this.deadLetterEntries,
      this.queueFullTotal,
      this.corruptBytes,
      this.missingSegmentsTotal,
    ]) {
      counter.inc(node, 0);
    }
    for (const kind of ERROR_KINDS) this.replayErrors.inc({ ...node, kind }, 0);
    for (const outcome of REOPEN_OUTCOMES) this.queueReopenTotal.inc({ ...node, outcome }, 0);
    for (const reason of PURGE_REASONS) this.purgedEntries.inc({ ...node, reason }, 0);
    this.nodeUpGauge.set(node, 1);
    this.backoffGauge.set(node, 0);
  }

  appended(nodeId: string, entries: number, bytes: number): void {
    this.seed(nodeId);
    this.appendedEntries.inc({ node: nodeId }, entries);
    this.appendedBytes.inc({ node: nodeId }, bytes);
  }

  replayed(nodeId: string, entries: number, bytes: number): void {
    this.seed(nodeId);
    this.replayedEntries.inc({ node: nodeId }, entries);
    this.replayedBytes.inc({ node: nodeId }, bytes);
  }

  replayError(nodeId: string, kind: ReplayErrorKind): void {
    this.seed(nodeId);
    this.replayErrors.inc({ node: nodeId, kind });
  }

  deadLettered(nodeId: string, entries: number): void {
    this.seed(nodeId);
    this.deadLetterEntries.inc({ node: nodeId }, entries);
  }

  purged(nodeId: string, entries: number, reason: PurgeReason): void {
    this.seed(nodeId);
    this.purgedEntries.inc({ node: nodeId, reason }, entries);
  }

  queueFull(nodeId: string): void {
    this.seed(nodeId);
    this.queueFullTotal.inc({ node: nodeId });
  }

  corrupt(nodeId: string, bytes: number): void {
    this.seed(nodeId);
    this.corruptBytes.inc({ node: nodeId }, bytes);
  }

  missingSegments(nodeId: string, count: number): void {
    this.seed(nodeId);
    this.missingSegmentsTotal.inc({ node: nodeId }, count);
  }

  queueReopened(nodeId: string, ok: boolean): void {
    this.seed(nodeId);
    this.queueReopenTotal.inc({ node: nodeId, outcome: ok ? 'ok' : 'failed' });
  }

  nodeUp(nodeId: string, up: boolean): void {
    this.seed(nodeId);
    this.nodeUpGauge.set({ node: nodeId }, up ? 1 : 0);
  }

  backoff(nodeId: string, delayMs: number): void {
    this.seed(nodeId);
    this.backoffGauge.set({ node: nodeId }, delayMs / 1000);
  }

  /** Counters keep their totals (rates stay right); the gauges of a gone node would lie. */
  forget(nodeId: string): void {
    this.seeded.delete(nodeId);
    this.nodeUpGauge.remove({ node: nodeId });
    this.backoffGauge.remove({ node: nodeId });
  }
}
