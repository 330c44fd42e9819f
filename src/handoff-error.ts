/**
 * The base of every error this package throws. `name` is the class's own name (a subclass sets
 * none), `code` a stable string for callers, logs and metrics (the message may change, the code
 * does not), and `cause` the error behind it when there is one, as `new Error(msg, { cause })`
 * keeps it. `err instanceof HandoffError` tells the package's errors from any other.
 */
export abstract class HandoffError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
