import { PayloadRun } from '../../src/modules/queue/payload-run';
import { HEADER_SIZE } from '../../src/modules/queue/segment-format';

/** A window holding `payloads`, each behind a header-sized gap, and where each payload starts. */
function windowOf(payloads: string[]): { win: Buffer; at: number[] } {
  const win = Buffer.alloc(
    payloads.reduce((n, p) => n + HEADER_SIZE + p.length, 0),
    0xee,
  );
  const at: number[] = [];
  let off = 0;
  for (const p of payloads) {
    off += HEADER_SIZE;
    at.push(off);
    win.write(p, off);
    off += p.length;
  }
  return { win, at };
}

describe('PayloadRun', () => {
  it('copies consecutive payloads of one window with one copy they all share', () => {
    const { win, at } = windowOf(['alpha', 'bravo', '', 'charlie']);
    const run = new PayloadRun();
    const out: Buffer[] = [];
    ['alpha', 'bravo', '', 'charlie'].forEach((p, i) => run.add(win, at[i], p.length, out));
    expect(out).toHaveLength(0);
    expect(run.size).toBe(4);
    run.flush(out);
    expect(out.map((b) => b.toString())).toEqual(['alpha', 'bravo', '', 'charlie']);
    // One copy: the payloads lie in one buffer as far apart as in the window.
    expect(new Set(out.map((b) => b.buffer)).size).toBe(1);
    expect(out.map((b) => b.byteOffset - out[0].byteOffset)).toEqual(at.map((x) => x - at[0]));
    expect(run.size).toBe(0);
  });

  it('hands out payloads that outlive the window being overwritten', () => {
    const { win, at } = windowOf(['one', 'two']);
    const run = new PayloadRun();
    const out: Buffer[] = [];
    run.add(win, at[0], 3, out);
    run.add(win, at[1], 3, out);
    run.flush(out);
    win.fill(0);
    expect(out.map((b) => b.toString())).toEqual(['one', 'two']);
  });

  it('starts a new copy for a payload of another window or past a gap larger than a header', () => {
    const a = windowOf(['a1', 'a2', 'a3']);
    const b = windowOf(['b1']);
    const run = new PayloadRun();
    const out: Buffer[] = [];
    run.add(a.win, a.at[0], 2, out);
    // a2 skipped: the gap to a3 is a header and a payload, as after a corrupt record.
    run.add(a.win, a.at[2], 2, out);
    expect(out.map((x) => x.toString())).toEqual(['a1']);
    run.add(b.win, b.at[0], 2, out);
    expect(out.map((x) => x.toString())).toEqual(['a1', 'a3']);
    run.flush(out);
    expect(out.map((x) => x.toString())).toEqual(['a1', 'a3', 'b1']);
  });

  it('forgets a run on clear() without handing it out', () => {
    const { win, at } = windowOf(['lost']);
    const run = new PayloadRun();
    const out: Buffer[] = [];
    run.add(win, at[0], 4, out);
    run.clear();
    run.flush(out);
    expect(out).toHaveLength(0);
  });
});
