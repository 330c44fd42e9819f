import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { BadWriteBodyError } from './errors';
import type { ContentEncoding } from './write-target';

const gunzip = promisify(gunzipCallback);

/** The body's encoding from `Content-Encoding`; InfluxDB 1.x reads gzip and nothing else. */
export function contentEncodingOf(
  header: string | string[] | undefined,
): ContentEncoding | undefined {
  const value = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  return undefined;
}

/**
 * A gzip body inflated, to at most `limit` bytes; BadWriteBodyError (413 or 400) otherwise. The
 * relay checks every gzip write with it before acknowledging: a body that does not inflate would
 * otherwise be handed off, acknowledged, and dead-lettered long after the client could be told.
 * The gzip bytes are what is forwarded and stored (a hand-off cut into pieces stores them inflated).
 */
export async function inflateBody(body: Buffer, limit: number): Promise<Buffer> {
  try {
    return await gunzip(body, { maxOutputLength: limit });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BadWriteBodyError(`request body too large: inflates past ${limit} bytes`, 413);
    }
    throw new BadWriteBodyError(`unable to decompress gzip body: ${(err as Error).message}`, 400);
  }
}
