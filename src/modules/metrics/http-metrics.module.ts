import { Module, type OnModuleDestroy } from '@nestjs/common';
import { HttpMetricsHook } from './http-metrics.hook';
import { HTTP_METRIC_NAMES, HTTP_METRIC_PROVIDERS } from './metrics.definitions';
import { removeMetrics } from './metrics-registry-cleanup';

/**
 * Request count and latency of the relay app (Fastify). Separate from HandoffMetricsModule so a
 * host app that uses the library does not get its own routes counted under hh_* names.
 */
@Module({
  providers: [...HTTP_METRIC_PROVIDERS, HttpMetricsHook],
  exports: [...HTTP_METRIC_PROVIDERS],
})
export class HttpMetricsModule implements OnModuleDestroy {
  onModuleDestroy(): void {
    removeMetrics(HTTP_METRIC_NAMES);
  }
}
