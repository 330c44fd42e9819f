import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { METRIC } from '../../src/modules/metrics/metrics.definitions';

/**
 * The monitoring files under deploy/ against the metrics the code defines: a renamed metric
 * would otherwise leave an empty panel or an alert that never fires, silently.
 */
const DEPLOY = path.resolve(__dirname, '../../deploy');
const DEFINED = new Set<string>(Object.values(METRIC));
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

/** The hh_* metric names an expression reads (histogram series mapped to their metric). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/\bhh_[a-z_]+\b/g)].map(([name]) =>
    DEFINED.has(name) ? name : name.replace(HISTOGRAM_SERIES, ''),
  );
}

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string }[];
}

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(
    readFileSync(path.join(DEPLOY, 'grafana/dashboards/hinted-handoff.json'), 'utf8'),
  ) as { panels: Panel[] };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('reads, in every panel, only metrics the code defines', () => {
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      const names = (panel.targets ?? []).flatMap((t) => metricsOf(t.expr));
      expect({ panel: panel.title, some: names.length > 0 }).toEqual({
        panel: panel.title,
        some: true,
      });
      for (const name of names) {
        expect({ panel: panel.title, name, defined: DEFINED.has(name) }).toEqual({
          panel: panel.title,
          name,
          defined: true,
        });
      }
    }
  });

  it('shows backlog, hand-off, replay, errors, dead letters, queue-full, node up, back-off and HTTP', () => {
    const shown = new Set(
      panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsOf(t.expr))),
    );
    for (const name of [
      METRIC.queueEntries,
      METRIC.queueBytes,
      METRIC.queueOldestAge,
      METRIC.appendedEntries,
      METRIC.replayedEntries,
      METRIC.replayErrors,
      METRIC.deadLetterEntries,
      METRIC.queueFull,
      METRIC.nodeUp,
      METRIC.replayBackoff,
      METRIC.httpRequests,
      METRIC.httpRequestDuration,
    ]) {
      expect({ name, shown: shown.has(name) }).toEqual({ name, shown: true });
    }
  });
});

describe('the Prometheus alert rules', () => {
  const rulesFile = path.join(DEPLOY, 'prometheus/alerts.yml');
  const text = readFileSync(rulesFile, 'utf8');
  const alerts = [...text.matchAll(/- alert: (\S+)\n\s+expr: (.+)/g)].map(([, name, expr]) => ({
    name,
    expr,
  }));

  it('has the alerts an operator needs', () => {
    expect(alerts.map((a) => a.name)).toEqual(
      expect.arrayContaining([
        'HHNodeDown',
        'HHBacklogOlderThanAnHour',
        'HHQueueAbove80Percent',
        'HHDeadLetters',
        'HHQueueFailed',
      ]),
    );
  });

  it('reads only metrics the code defines', () => {
    for (const alert of alerts) {
      for (const name of metricsOf(alert.expr)) {
        expect({ alert: alert.name, name, defined: DEFINED.has(name) }).toEqual({
          alert: alert.name,
          name,
          defined: true,
        });
      }
    }
  });

  it('passes promtool check rules, and the scrape config passes promtool check config', () => {
    const rules = spawnSync('/usr/bin/promtool', ['check', 'rules', rulesFile], {
      encoding: 'utf8',
    });
    expect(rules.error).toBeUndefined();
    expect(rules.status).toBe(0);
    const config = spawnSync(
      '/usr/bin/promtool',
      ['check', 'config', path.join(DEPLOY, 'prometheus/prometheus.yml')],
      { encoding: 'utf8' },
    );
    expect(config.status).toBe(0);
  });

  it('fires each alert on the series that should trigger it (promtool test rules)', () => {
    const test = spawnSync(
      '/usr/bin/promtool',
      ['test', 'rules', path.join(DEPLOY, 'prometheus/alerts.test.yml')],
      { encoding: 'utf8' },
    );
    expect(`${test.stdout}${test.stderr}`).toContain('SUCCESS');
    expect(test.status).toBe(0);
  });
});
