/**
 * `fn` over `items` with at most `limit` calls in flight, results in input order. After a
 * failure no new call starts, and the promise rejects with the first error only once every call
 * already started has settled: nothing keeps running (or failing unseen) behind the caller.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  let first: unknown = null;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        if (!failed) first = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw first;
  return out;
}
