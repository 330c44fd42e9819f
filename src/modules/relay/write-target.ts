/**
 * Where an InfluxDB 1.x write lands and how its body is to be read: everything of a `/write`
 * request except the body that a node needs to apply it, now or when replayed.
 */
export type Precision = 'n' | 'ns' | 'u' | 'ms' | 's' | 'm' | 'h';
export type ContentEncoding = 'identity' | 'gzip';

export const PRECISIONS: readonly Precision[] = ['n', 'ns', 'u', 'ms', 's', 'm', 'h'];

export interface WriteTarget {
  db: string;
  /** Retention policy; empty = the database's default. */
  rp: string;
  /** Timestamp precision; empty = nanoseconds (InfluxDB's default when the parameter is absent). */
  precision: Precision | '';
}

export function sameTarget(a: WriteTarget, b: WriteTarget): boolean {
  return a.db === b.db && a.rp === b.rp && a.precision === b.precision;
}

/** The query string of the `/write` request that applies a write to a node. */
export function writeQuery(target: WriteTarget): string {
  const params = new URLSearchParams({ db: target.db });
  if (target.rp) params.set('rp', target.rp);
  if (target.precision) params.set('precision', target.precision);
  return params.toString();
}
