const NEWLINE = 0x0a;

/**
 * Cuts a line-protocol body into pieces of at most `maxBytes`, only at line ends, so that a
 * write larger than one queue segment can still be handed off (as several entries, in order).
 * The pieces are views of `body` and join back to it byte for byte. Null when one line alone is
 * larger than `maxBytes`: no cut can make it fit.
 */
export function splitLines(body: Buffer, maxBytes: number): Buffer[] | null {
  const pieces: Buffer[] = [];
  let start = 0;
  while (body.length - start > maxBytes) {
    // The last line end inside the budget closes this piece.
    const cut = body.lastIndexOf(NEWLINE, start + maxBytes - 1);
    if (cut < start) return null;
    pieces.push(body.subarray(start, cut + 1));
    start = cut + 1;
  }
  if (start < body.length) pieces.push(body.subarray(start));
  return pieces;
}
