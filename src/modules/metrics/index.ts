export { HandoffMetricsModule } from './handoff-metrics.module';
export { HttpMetricsModule } from './http-metrics.module';
export { HttpMetricsHook } from './http-metrics.hook';
export { RelayMetricsModule } from './relay-metrics.module';
export { PrometheusReplayMetrics } from './prometheus-replay-metrics';
export {
  METRIC,
  HANDOFF_METRIC_NAMES,
  HANDOFF_METRIC_PROVIDERS,
  HTTP_METRIC_NAMES,
  HTTP_METRIC_PROVIDERS,
} from './metrics.definitions';
