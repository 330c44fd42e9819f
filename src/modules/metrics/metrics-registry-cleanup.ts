import { register } from 'prom-client';

/**
 * Removes metrics from prom-client's default registry. `makeXProvider` reuses a metric already
 * registered under the same name, so without this a second app in the same process (tests, a
 * restart in place) would get the first app's metrics, whose scrape-time callbacks read the
 * first app's closed service. Each module removes its metrics when its app closes.
 */
export function removeMetrics(names: readonly string[]): void {
  for (const name of names) register.removeSingleMetric(name);
}
