import fc from 'fast-check';
import { joinLines } from '../../src/modules/replay/http-node-client';

/** The joining it replaced: entries and separators through Buffer.concat. */
function joinWithConcat(entries: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    parts.push(e);
    if (i < entries.length - 1 && e[e.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

describe('joinLines', () => {
  it('joins exactly as entries and separators concatenated, empty and newline-ended entries included', () => {
    const entry = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom(new Uint8Array(0), Uint8Array.of(0x0a), Uint8Array.of(0x61, 0x0a)),
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 30 }), (arrays) => {
        // Views into one slab, as the queue's peek hands them over.
        const slab = Buffer.concat(arrays);
        let at = 0;
        const entries = arrays.map((a) => slab.subarray(at, (at += a.length)));
        expect(joinLines(entries).equals(joinWithConcat(entries))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('hands a single entry over as it is', () => {
    const only = Buffer.from('cpu v=1');
    expect(joinLines([only])).toBe(only);
  });
});
