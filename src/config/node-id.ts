import { NODE_ID_PATTERN } from './defaults';

/**
 * A node id names a directory under the data dir, so it must never be able to climb out of it:
 * the pattern admits `.` and `..`, which are refused here on top of it.
 */
export function isValidNodeId(id: unknown): id is string {
  return typeof id === 'string' && NODE_ID_PATTERN.test(id) && id !== '.' && id !== '..';
}
