import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/**
 * `<queueDir>/node.json`: the URL a node's queue was filled for. When the node is later removed
 * from the configuration, its backlog can still be drained to that URL (inactive-node purge);
 * without the file the backlog is kept until it passes the maximum age. The queue only reads
 * `*.seg` names, so the file does not disturb it.
 */
export const NODE_RECORD_FILE = 'node.json';

export interface NodeRecord {
  id: string;
  url: string;
}

export async function writeNodeRecord(dir: string, record: NodeRecord): Promise<void> {
  const file = path.join(dir, NODE_RECORD_FILE);
  const tmp = `${file}.tmp`;
  try {
    // Mode 0600: the URL may carry credentials.
    await fs.writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    await fs.rename(tmp, file);
  } catch (err) {
    // A full disk leaves an empty (or partial) temp file: never leave it behind.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** The record, or null when there is none (or it is not a record this code wrote). */
export async function readNodeRecord(dir: string): Promise<NodeRecord | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, NODE_RECORD_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<NodeRecord>;
    return typeof parsed.id === 'string' && typeof parsed.url === 'string'
      ? { id: parsed.id, url: parsed.url }
      : null;
  } catch {
    // A torn record (crash mid-write before the rename cannot happen; a hand edit can).
    return null;
  }
}
