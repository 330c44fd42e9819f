import { UsageError } from './errors';

export interface CliArgs {
  command: 'inspect' | 'verify' | 'dump' | 'help';
  /** Positional arguments after the command. */
  positional: string[];
  json: boolean;
  hex: boolean;
  limit?: number;
}

export const USAGE = `usage:
  hh inspect DIR [--json]                     per node: segments, entries, bytes, times, head, dead letters
  hh verify DIR [--json]                      check every record's checksum (exit 1 when any is bad)
  hh dump DIR NODE [--limit N] [--hex] [--json]  the node's unread entries, oldest first

DIR is a relay's data directory (HH_DATA_DIR) or one node's queue directory.
Every command only reads: it takes no lock and changes nothing, even when a relay is running.
Exit status: 0 ok, 1 damaged records found (verify), 2 usage or read error.`;

const COMMANDS = new Set(['inspect', 'verify', 'dump', 'help']);

/** By hand: three flags and one option do not need a parser dependency. */
export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    return { command: 'help', positional: [], json: false, hex: false };
  }
  if (!COMMANDS.has(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const args: CliArgs = {
    command: command as CliArgs['command'],
    positional: [],
    json: false,
    hex: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--json') args.json = true;
    else if (arg === '--hex') args.hex = true;
    else if (arg === '--limit' || arg.startsWith('--limit=')) {
      const value = arg === '--limit' ? rest[++i] : arg.slice('--limit='.length);
      if (value === undefined || !/^\d{1,9}$/.test(value) || Number(value) < 1) {
        throw new UsageError('--limit takes a whole number of entries, at least 1');
      }
      args.limit = Number(value);
    } else if (arg === '--help' || arg === '-h') args.command = 'help';
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
    else args.positional.push(arg);
  }
  const wanted = args.command === 'dump' ? 2 : args.command === 'help' ? args.positional.length : 1;
  if (args.positional.length !== wanted) {
    throw new UsageError(
      args.command === 'dump' ? 'dump takes DIR and NODE' : `${args.command} takes one DIR`,
    );
  }
  if (args.command !== 'dump' && (args.hex || args.limit !== undefined)) {
    throw new UsageError('--hex and --limit apply to dump only');
  }
  return args;
}
