import { ConfigValueError } from './errors';
import { parseSize } from './parse-size';

/**
 * The largest replay batch accepted. A batch is read whole into memory, the next one is read
 * while it is in flight, and the request body joins it once more: a batch of many GiB reads a
 * whole backlog at once and runs the process out of memory on every start. 256 MiB is far above
 * any useful request (InfluxDB refuses bodies over 25 MB by default).
 */
export const MAX_REPLAY_BATCH_BYTES = 256 * 1024 * 1024;

/** Parses `HH_REPLAY_BATCH_BYTES`: more than 0 and at most MAX_REPLAY_BATCH_BYTES bytes. */
export function parseBatchSize(text: string): number {
  const value = parseSize(text);
  if (value <= 0 || value > MAX_REPLAY_BATCH_BYTES) {
    const problem = `must be greater than 0 and at most ${MAX_REPLAY_BATCH_BYTES} bytes (256MiB): a batch is held in memory`;
    throw new ConfigValueError(`Invalid value ${JSON.stringify(text)}: ${problem}`, problem);
  }
  return value;
}
