/**
 * Polls `check` every 50 ms until it answers true (true) or `timeoutMs` passes (false); a check
 * that throws counts as not yet. For end-to-end tests that wait on a real process.
 */
export async function until(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `count` points of measurement `m` tagged `src`, v = first..first+count-1, distinct timestamps. */
export function pointBatch(src: string, first: number, count: number): string {
  const lines: string[] = [];
  for (let v = first; v < first + count; v += 1)
    lines.push(`m,src=${src} v=${v}i ${1_600_000_000_000 + v}`);
  return lines.join('\n');
}
