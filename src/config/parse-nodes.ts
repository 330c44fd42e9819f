import { ConfigValueError } from './errors';
import type { NodeConfig } from './handoff-config.interface';
import { isValidNodeId } from './node-id';

const NODES_EXPECTED =
  'expected a comma-separated list of id=url, e.g. a=http://10.0.0.1:8086,b=http://10.0.0.2:8086';

const ID_EXPECTED =
  'expected 1 to 64 characters of A-Z a-z 0-9 _ . - and not "." or ".." (ids name directories)';

/**
 * Parses `HH_NODES` (`id=url,id=url`) into node configurations. Each entry is checked on its
 * own and the message names the entry that is wrong, since a long list is hard to eyeball.
 */
export function parseNodes(text: string): NodeConfig[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new ConfigValueError(
      `Invalid node list: empty; ${NODES_EXPECTED}`,
      `empty; ${NODES_EXPECTED}`,
    );
  }
  const nodes = text.split(',').map((entry, index) => {
    const trimmed = entry.trim();
    const eq = trimmed.indexOf('=');
    if (trimmed === '') {
      return fail(`entry ${index + 1} is empty; ${NODES_EXPECTED}`);
    }
    if (eq < 0) {
      return fail(`entry ${JSON.stringify(trimmed)} has no "="; ${NODES_EXPECTED}`);
    }
    return { id: trimmed.slice(0, eq).trim(), url: trimmed.slice(eq + 1).trim() };
  });
  return checkNodes(nodes);
}

/**
 * Checks node configurations however they were given (parsed from `HH_NODES` or passed as
 * options): at least one node, valid and unique ids, absolute http(s) URLs.
 */
export function checkNodes(nodes: readonly unknown[]): NodeConfig[] {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    fail(`at least one node is required; ${NODES_EXPECTED}`);
  }
  // Ids are compared without case: on a case-insensitive filesystem `A` and `a` would share
  // one queue directory.
  const seen = new Set<string>();
  return nodes.map((node) => {
    const { id, url } = (node ?? {}) as { id?: unknown; url?: unknown };
    if (!isValidNodeId(id)) {
      fail(`node id ${JSON.stringify(id ?? '')} is not valid: ${ID_EXPECTED}`);
    }
    const nodeId = id as string;
    if (seen.has(nodeId.toLowerCase())) {
      fail(`node id "${nodeId}" appears more than once (ids must be unique, ignoring case)`);
    }
    seen.add(nodeId.toLowerCase());
    return { id: nodeId, url: checkNodeUrl(nodeId, url) };
  });
}

function checkNodeUrl(id: string, url: unknown): string {
  const problem = `node "${id}" has URL ${JSON.stringify(url ?? '')}, expected an absolute http:// or https:// URL`;
  if (typeof url !== 'string' || url === '') return fail(problem);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(problem);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
    fail(problem);
  }
  return url;
}

function fail(problem: string): never {
  throw new ConfigValueError(`Invalid node list: ${problem}`, problem);
}
