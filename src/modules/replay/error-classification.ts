import type { ReplayErrorKind } from './replay-metrics.interface';
import { NodeTimeoutError, NodeUnreachableError, PermanentWriteError } from './errors';

/**
 * The metrics label of a failed send. Anything a client throws that is not a
 * PermanentWriteError is retried (see NodeClient), so unknown errors count as transient.
 */
export function classifyError(err: unknown): ReplayErrorKind {
  if (err instanceof PermanentWriteError) return 'permanent';
  if (err instanceof NodeTimeoutError) return 'timeout';
  if (err instanceof NodeUnreachableError) return 'network';
  return 'transient';
}

export function isPermanent(err: unknown): err is PermanentWriteError {
  return err instanceof PermanentWriteError;
}
