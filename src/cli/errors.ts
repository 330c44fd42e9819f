/** Errors of the `hh` command. Each has a stable `code`; the exit status follows from it. */

import { HandoffError } from '../handoff-error';

/** The command line is wrong: exit status 2 with the usage text. */
export class UsageError extends HandoffError {
  readonly code = 'ERR_CLI_USAGE';
  constructor(message: string) {
    super(message);
  }
}

/** The directory (or node) asked for is not a hand-off queue or data directory. */
export class NotAQueueError extends HandoffError {
  readonly code = 'ERR_CLI_NOT_A_QUEUE';
  constructor(readonly dir: string) {
    super(`${dir} is neither a hand-off data directory nor a queue directory`);
  }
}
