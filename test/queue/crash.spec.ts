import { QueueChild } from './child-process';
import { QueueFixture } from './queue-test-helpers';

/** Same payload as fixtures/queue-child.js: the seq in 8 bytes, then bytes derived from it. */
function payloadFor(seq: number): Buffer {
  const len = 8 + ((seq * 7919) % 300);
  const b = Buffer.alloc(len);
  b.writeUInt32BE(Math.floor(seq / 0x100000000), 0);
  b.writeUInt32BE(seq >>> 0, 4);
  for (let i = 8; i < len; i++) b[i] = (seq * 31 + i) & 0xff;
  return b;
}

function seqOf(b: Buffer): number {
  if (b.length < 8) return -1;
  const seq = b.readUInt32BE(0) * 0x100000000 + b.readUInt32BE(4);
  return payloadFor(seq).equals(b) ? seq : -1;
}

/** A small seeded PRNG (mulberry32): random kill moments, the same ones on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('crash safety', () => {
  const fx = new QueueFixture();
  beforeEach(() => fx.setup());
  afterEach(() => fx.teardown());

  it("keeps every resolved append not yet advanced past, in order, across SIGKILLs at random moments ('always' fsync)", async () => {
    const rand = prng(20_251_126);
    const dir = fx.path('q');
    let next = 0;
    let acked = new Set<number>();
    // Everything before the head as last seen is gone for good.
    let passed = -1;
    for (let round = 0; round < 6; round++) {
      const child = new QueueChild(['work', dir, String(next)]);
      const target = 20 + Math.floor(rand() * 400);
      try {
        await child.until(
          (lines) => lines.length >= target || lines.some((l) => l.startsWith('E ')),
        );
      } finally {
        await child.kill();
      }
      expect(child.lines.filter((l) => l.startsWith('E '))).toEqual([]);

      // What the child was told: appends resolved, advances resolved, and the advance in flight.
      let advancedThrough = passed;
      let intendedThrough = passed;
      for (const line of child.lines) {
        const [kind, a, b] = line.split(' ');
        if (kind === 'A') acked.add(Number(a));
        if (kind === 'P') intendedThrough = Number(b);
        if (kind === 'D') advancedThrough = Number(a);
      }
      const maxAcked = Math.max(-1, ...acked);

      const q = fx.create();
      await q.open();
      const entries = await q.peek(Number.MAX_SAFE_INTEGER);
      const seqs = entries.map(seqOf);
      expect(q.backlog().entries).toBe(entries.length);
      await q.close();

      // Nothing corrupt is delivered; entries come in order with no gap.
      expect(seqs.filter((s) => s < 0)).toEqual([]);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
      // The head is at or before the first entry not advanced past, and never before a resolved advance.
      if (seqs.length > 0) {
        expect(seqs[0]).toBeGreaterThan(advancedThrough);
        expect(seqs[0]).toBeLessThanOrEqual(Math.max(advancedThrough, intendedThrough) + 1);
      }
      // Every resolved append not advanced past is there.
      const present = new Set(seqs);
      const missing = [...acked].filter(
        (s) => s > Math.max(advancedThrough, intendedThrough) && !present.has(s),
      );
      expect(missing).toEqual([]);
      next = Math.max(maxAcked, intendedThrough, seqs.at(-1) ?? -1) + 1;
      // What is on disk now must stay there until a later child advances past it.
      acked = present;
      passed = seqs.length > 0 ? seqs[0] - 1 : next - 1;
    }
  });
});
