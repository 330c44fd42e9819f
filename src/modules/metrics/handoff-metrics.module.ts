import { Global, Module, type OnModuleDestroy } from '@nestjs/common';
import { REPLAY_METRICS } from '../replay/replay-metrics.interface';
import {
  HANDOFF_METRIC_NAMES,
  HANDOFF_METRIC_PROVIDERS,
  JETSTREAM_METRIC_NAMES,
} from './metrics.definitions';
import { removeMetrics } from './metrics-registry-cleanup';
import { PrometheusReplayMetrics } from './prometheus-replay-metrics';

/**
 * The library's metrics: defines the hh_* metrics and binds the replay side's REPLAY_METRICS to
 * them. It never registers PrometheusModule (the host app does, once: a second registration in
 * one process throws). Global so the replay module finds REPLAY_METRICS without importing this
 * module, which would be a cycle (the queue gauges read HandoffService).
 */
@Global()
@Module({
  providers: [
    ...HANDOFF_METRIC_PROVIDERS,
    PrometheusReplayMetrics,
    { provide: REPLAY_METRICS, useExisting: PrometheusReplayMetrics },
  ],
  exports: [...HANDOFF_METRIC_PROVIDERS, PrometheusReplayMetrics, REPLAY_METRICS],
})
export class HandoffMetricsModule implements OnModuleDestroy {
  onModuleDestroy(): void {
    removeMetrics([...HANDOFF_METRIC_NAMES, ...JETSTREAM_METRIC_NAMES]);
  }
}
