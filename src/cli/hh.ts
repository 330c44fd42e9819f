#!/usr/bin/env node
import { parseArgs, USAGE } from './cli-args';
import { dump, formatDump } from './dump-command';
import { NotAQueueError, UsageError } from './errors';
import { formatInspect, inspect } from './inspect-command';
import { describeLock, lockStatus } from './lock-status';
import { findNodeQueueDir, findQueueDirs } from './queue-dir-reader';
import { formatVerify, verify } from './verify-command';

/** Exit statuses: scripts tell "damaged" from "could not run". */
export const EXIT_OK = 0;
export const EXIT_DAMAGED = 1;
export const EXIT_ERROR = 2;

interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Says on stderr when a live relay holds a queue: the view may change while it is read. */
async function warnHeld(dirs: { node: string; dir: string }[], io: Output): Promise<void> {
  for (const q of dirs) {
    const lock = await lockStatus(q.dir);
    if (lock.state === 'held') io.err(`hh: note: node ${q.node} is ${describeLock(lock)}`);
  }
}

export async function run(argv: readonly string[], io: Output): Promise<number> {
  try {
    const args = parseArgs(argv);
    const print = (value: unknown, text: () => string) =>
      io.out(args.json ? JSON.stringify(value, null, 2) : text());
    switch (args.command) {
      case 'help':
        io.out(USAGE);
        return EXIT_OK;
      case 'inspect': {
        const reports = await inspect(args.positional[0]);
        await warnHeld(reports, io);
        print({ nodes: reports }, () => formatInspect(reports));
        return EXIT_OK;
      }
      case 'verify': {
        await warnHeld(findQueueDirs(args.positional[0]), io);
        const report = await verify(args.positional[0]);
        print(report, () => formatVerify(report));
        return report.ok ? EXIT_OK : EXIT_DAMAGED;
      }
      case 'dump': {
        const [dir, node] = args.positional;
        const entries = await dump(dir, node, { limit: args.limit, hex: args.hex });
        await warnHeld([findNodeQueueDir(dir, node)], io);
        print({ node, entries }, () => formatDump(entries));
        return EXIT_OK;
      }
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hh: ${err.message}\n${USAGE}`);
      return EXIT_ERROR;
    }
    if (err instanceof NotAQueueError) {
      io.err(`hh: ${err.message}`);
      return EXIT_ERROR;
    }
    const e = err as NodeJS.ErrnoException;
    io.err(`hh: ${e.code ? `${e.code}: ` : ''}${e.message}`);
    return EXIT_ERROR;
  }
}

if (require.main === module) {
  run(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`hh: ${String(err)}\n`);
      process.exitCode = EXIT_ERROR;
    },
  );
}
