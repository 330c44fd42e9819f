import { DynamicModule, Module } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register } from 'prom-client';
import { HandoffMetricsModule } from './handoff-metrics.module';
import { HttpMetricsModule } from './http-metrics.module';

/** A metric prom-client's default metrics register: present once they are collected. */
const DEFAULT_METRIC_PROBE = 'process_cpu_user_seconds_total';

/**
 * Metrics of the standalone relay app: `/metrics` (the only place PrometheusModule is
 * registered), the hh_* metrics and the request metrics. Not for host apps, which register
 * PrometheusModule themselves and import HandoffMetricsModule.
 */
@Module({})
export class RelayMetricsModule {
  static forRoot(): DynamicModule {
    // Node's process metrics are collected once per process: a second app built in the same
    // process (tests) would otherwise register them twice, which prom-client refuses.
    const defaultMetrics = register.getSingleMetric(DEFAULT_METRIC_PROBE) === undefined;
    return {
      module: RelayMetricsModule,
      imports: [
        PrometheusModule.register({
          path: '/metrics',
          defaultMetrics: { enabled: defaultMetrics },
        }),
        HandoffMetricsModule,
        HttpMetricsModule,
      ],
    };
  }
}
