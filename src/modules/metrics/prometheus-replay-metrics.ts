import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge } from 'prom-client';
import type {
  PurgeReason,
  ReplayErrorKind,
  ReplayMetrics,
} from '../replay/replay-metrics.interface';
import { METRIC } from './metrics.definitions';

/** The replay side's metrics interface bound to the prom-client metrics. */
@Injectable()
export class PrometheusReplayMetrics implements ReplayMetrics {
  constructor(
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

  appended(nodeId: string, entries: number, bytes: number): void {
    this.appendedEntries.inc({ node: nodeId }, entries);
    this.appendedBytes.inc({ node: nodeId }, bytes);
  }

  replayed(nodeId: string, entries: number, bytes: number): void {
    this.replayedEntries.inc({ node: nodeId }, entries);
    this.replayedBytes.inc({ node: nodeId }, bytes);
  }

  replayError(nodeId: string, kind: ReplayErrorKind): void {
    this.replayErrors.inc({ node: nodeId, kind });
  }

  deadLettered(nodeId: string, entries: number): void {
    this.deadLetterEntries.inc({ node: nodeId }, entries);
  }

  purged(nodeId: string, entries: number, reason: PurgeReason): void {
    this.purgedEntries.inc({ node: nodeId, reason }, entries);
  }

  queueFull(nodeId: string): void {
    this.queueFullTotal.inc({ node: nodeId });
  }

  corrupt(nodeId: string, bytes: number): void {
    this.corruptBytes.inc({ node: nodeId }, bytes);
  }

  missingSegments(nodeId: string, count: number): void {
    this.missingSegmentsTotal.inc({ node: nodeId }, count);
  }

  queueReopened(nodeId: string, ok: boolean): void {
    this.queueReopenTotal.inc({ node: nodeId, outcome: ok ? 'ok' : 'failed' });
  }

  nodeUp(nodeId: string, up: boolean): void {
    this.nodeUpGauge.set({ node: nodeId }, up ? 1 : 0);
  }

  backoff(nodeId: string, delayMs: number): void {
    this.backoffGauge.set({ node: nodeId }, delayMs / 1000);
  }

  /** Counters keep their totals (rates stay right); the gauges of a gone node would lie. */
  forget(nodeId: string): void {
    this.nodeUpGauge.remove({ node: nodeId });
    this.backoffGauge.remove({ node: nodeId });
  }
}
