import type * as http from 'node:http';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { NodeConfig } from '../../config/handoff-config.interface';
import { DEFAULTS } from '../../config/defaults';
import type { NodeClient } from '../replay/node-client.interface';
import { sendInLanes } from '../replay/replay-lanes';
import { NodeTimeoutError, PermanentWriteError, TransientWriteError } from '../replay/errors';
import { isTransientStatus } from '../replay/http-node-client';
import { BadEnvelopeError, UnknownRelayNodeError } from './errors';
import { everyLineTimestamped } from './line-timestamps';
import { ReplayShare } from './replay-share';
import { LINE_END, partitionRelayEntry, type LaneWrite } from './lane-partition';
import { keepAliveAgent, requestNode, type NodeAnswer, type NodeRequest } from './node-request';
import { decodeRelayEntry, type RelayEntry, type StatementEnvelope } from './statement-envelope';
import type { WriteEnvelope } from './write-envelope';
import { sameTarget, writeQuery, type ContentEncoding, type WriteTarget } from './write-target';

const gunzip = promisify(gunzipCallback);
const NEWLINE = Buffer.from('\n');

export interface InfluxNodeClientOptions {
  /** Whole-request timeout of every write (HH_WRITE_TIMEOUT). */
  timeoutMs: number;
  /** Largest merged replay body (bytes); InfluxDB refuses bodies over its max-body-size (25 MB). */
  maxRequestBytes?: number;
  /** Sockets per node. */
  maxSockets?: number;
  /**
   * Concurrent replay requests per node (HH_REPLAY_LANES): a replayed batch is split by series
   * (database, retention policy, measurement and tag set) into this many lanes. 1 keeps the
   * strict one-request-at-a-time order of the queue.
   */
  replayLanes?: number;
  /**
   * Fewer lanes while live writes slow down (HH_REPLAY_ADAPTIVE, default true; see
   * ReplayShare): a catch-up takes what the live traffic leaves.
   */
  replayAdaptive?: boolean;
}

interface NodeEndpoint {
  writeUrl: URL;
  baseUrl: URL;
  agent: http.Agent;
}

/**
 * The relay's `NodeClient`: replays handed-off envelopes to InfluxDB 1.x nodes and sends the live
 * copies of `/write`. Consecutive entries with the same (db, rp, precision) become one request,
 * as influxdb-relay does with its buffer, so a drain is a few large writes, not one per entry.
 *
 * Answers: 2xx delivered; 408, 429, 5xx, network errors and timeouts transient (keep, retry);
 * other 4xx permanent. That includes 404 "database not found": a missing database is an
 * operator's mistake that retrying cannot fix, so the write is dead-lettered (and can be
 * requeued once the database exists) rather than blocking every later write to that node.
 * A 3xx is kept as transient: it is a misconfigured URL, and data is never dropped for it.
 */
export class InfluxNodeClient implements NodeClient {
  private readonly endpoints = new Map<string, NodeEndpoint>();
  private readonly maxRequestBytes: number;
  private readonly maxLanes: number;
  /** How many lanes a batch may take while live writes flow (absent: always maxLanes). */
  private readonly share?: ReplayShare;
  /** The `X-Influxdb-Version` of the last node answer that had one. */
  private seenVersion?: string;

  constructor(
    nodes: readonly NodeConfig[] | ReadonlyMap<string, string>,
    private readonly options: InfluxNodeClientOptions,
  ) {
    this.maxRequestBytes = options.maxRequestBytes ?? 25 * 1000 * 1000;
    this.maxLanes = options.replayLanes ?? DEFAULTS.replayLanes;
    if (options.replayAdaptive ?? DEFAULTS.replayAdaptive) {
      this.share = new ReplayShare(this.maxLanes);
    }
    const pairs =
      nodes instanceof Map
        ? [...nodes.entries()]
        : (nodes as NodeConfig[]).map((n) => [n.id, n.url]);
    for (const [id, url] of pairs) this.addNode(id, url);
  }

  addNode(id: string, url: string): void {
    const baseUrl = new URL(url);
    const writeUrl = new URL('write', withTrailingSlash(baseUrl));
    this.endpoints.get(id)?.agent.destroy();
    this.endpoints.set(id, {
      baseUrl,
      writeUrl,
      agent: keepAliveAgent(baseUrl, this.options.maxSockets),
    });
  }

  /** The InfluxDB version the nodes last reported (any answer's `X-Influxdb-Version`). */
  get nodeVersion(): string | undefined {
    return this.seenVersion;
  }

  /** Remembers the version a node answer reports; the relay reports it to its own clients. */
  observeVersion(headers: http.IncomingHttpHeaders): void {
    const version = headers['x-influxdb-version'];
    if (typeof version === 'string' && version.length > 0) this.seenVersion = version;
  }

  /** GET /ping on one node (its version is observed); rejects when it does not answer 2xx. */
  async ping(nodeId: string): Promise<void> {
    const endpoint = this.endpoints.get(nodeId);
    if (!endpoint) throw new UnknownRelayNodeError(nodeId);
    const answer = await this.exchange(nodeId, 0, {
      url: new URL('ping', withTrailingSlash(endpoint.baseUrl)),
      agent: endpoint.agent,
      method: 'GET',
      timeoutMs: this.options.timeoutMs,
    });
    throwForStatus(nodeId, answer, 0);
  }

  hasNode(id: string): boolean {
    return this.endpoints.has(id);
  }

  /** The node's base URL and agent, for the `/query` pass-through. */
  endpoint(id: string): { baseUrl: URL; agent: http.Agent } {
    const endpoint = this.endpoints.get(id);
    if (!endpoint) throw new UnknownRelayNodeError(id);
    return endpoint;
  }

  /** Sends one live write as the client sent it; throws Transient/PermanentWriteError. */
  async sendLive(
    nodeId: string,
    target: WriteTarget,
    body: Buffer,
    encoding: ContentEncoding,
  ): Promise<void> {
    const started = process.hrtime.bigint();
    await this.post(nodeId, target, body, encoding, 0);
    this.share?.recordLive(Number(process.hrtime.bigint() - started) / 1e6);
  }

  /**
   * Replays a batch. With more than one lane, the writes go out as concurrent requests, one per
   * lane of series, so writes of one series keep their order while the node takes several
   * requests at once; statements stay barriers (see sendInLanes for what a lane failure means).
   */
  async send(nodeId: string, entries: Buffer[]): Promise<void> {
    const lanes = this.share ? this.share.nextLanes() : this.maxLanes;
    if (lanes <= 1) return this.sendInOrder(nodeId, entries);
    await sendInLanes(entries, lanes, {
      partition: partitionRelayEntry,
      sendPieces: (pieces) => this.sendLaneWrites(nodeId, pieces),
      sendBarrier: (entry) => this.sendInOrder(nodeId, [entry]),
    });
  }

  /** Sends a batch as one request after the other, in queue order. */
  private async sendInOrder(nodeId: string, entries: Buffer[]): Promise<void> {
    const { decoded, bad } = decodeAll(entries);
    let delivered = 0;
    // A statement is a barrier: the writes before it are applied first, those after it next,
    // and it is never merged with them (a CREATE DATABASE must precede the writes needing it).
    for (const group of groupEntries(decoded)) {
      if ('q' in group) await this.sendStatement(nodeId, group, delivered);
      else await this.sendGroup(nodeId, group, delivered);
      delivered += 'q' in group ? 1 : group.length;
    }
    if (bad) {
      throw new PermanentWriteError(
        `entry ${delivered} is not a relay envelope: ${bad.message}`,
        delivered,
      );
    }
  }

  async close(): Promise<void> {
    for (const endpoint of this.endpoints.values()) endpoint.agent.destroy();
  }

  /**
   * Applies one handed-off statement through `POST /query` with the node's own credentials.
   * A node that answers 2xx but reports an error for a statement (a database missing, a policy
   * that conflicts) refuses it as surely as a 4xx: the entry is dead-lettered with the answer.
   */
  private async sendStatement(
    nodeId: string,
    statement: StatementEnvelope,
    delivered: number,
  ): Promise<void> {
    const endpoint = this.endpoints.get(nodeId);
    if (!endpoint) throw new UnknownRelayNodeError(nodeId);
    const form = new URLSearchParams({ q: statement.q });
    if (statement.db) form.set('db', statement.db);
    if (statement.rp) form.set('rp', statement.rp);
    if (statement.params) form.set('params', statement.params);
    const answer = await this.exchange(nodeId, delivered, {
      url: new URL('query', withTrailingSlash(endpoint.baseUrl)),
      agent: endpoint.agent,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(form.toString()),
      timeoutMs: this.options.timeoutMs,
    });
    throwForStatus(nodeId, answer, delivered);
    const error = statementError(answer.body);
    if (error !== undefined) {
      throw new PermanentWriteError(
        `node ${nodeId} refused statement ${JSON.stringify(statement.q)}: ${error}`,
        delivered,
        answer.status,
        answer.body,
      );
    }
  }

  /** One lane's writes: runs with one target joined into requests of at most maxRequestBytes. */
  private async sendLaneWrites(nodeId: string, pieces: LaneWrite[]): Promise<void> {
    let sent = 0;
    while (sent < pieces.length) {
      const first = pieces[sent];
      const parts: Buffer[] = [];
      let bytes = 0;
      let end = sent;
      while (
        end < pieces.length &&
        sameTarget(first.target, pieces[end].target) &&
        (end === sent || bytes + pieces[end].bytes <= this.maxRequestBytes)
      ) {
        for (const part of pieces[end].parts) parts.push(part);
        bytes += pieces[end].bytes;
        end++;
      }
      // The newline that ends a body sent without one is only needed between bodies.
      if (parts[parts.length - 1] === LINE_END) parts.pop();
      await this.post(nodeId, first.target, parts, 'identity', sent);
      sent = end;
    }
  }

  private async sendGroup(nodeId: string, group: WriteEnvelope[], before: number): Promise<void> {
    const first = group[0];
    if (group.length === 1) {
      await this.post(nodeId, first, first.body, first.encoding, before);
      return;
    }
    // A gzip body cannot be concatenated with others: inflate it, then join plain text.
    const bodies: Buffer[] = [];
    for (const [i, envelope] of group.entries()) {
      try {
        bodies.push(envelope.encoding === 'gzip' ? await gunzip(envelope.body) : envelope.body);
      } catch (err) {
        // Deliver what precedes the corrupt entry, then report it alone as permanent.
        if (i > 0) await this.sendGroup(nodeId, group.slice(0, i), before);
        throw new PermanentWriteError(
          `entry ${before + i} has a gzip body that does not inflate: ${(err as Error).message}`,
          before + i,
        );
      }
    }
    // Merged runs, broken by each body with a timestamp-less line: that one goes alone, as the
    // client sent it, or the node would give its points and another's the same time.
    let sent = 0;
    const sendRun = async (end: number) => {
      for (const chunk of chunkLines(bodies.slice(sent, end), this.maxRequestBytes)) {
        await this.post(nodeId, first, chunk.parts, 'identity', before + sent);
        sent += chunk.entries;
      }
    };
    for (const [i, body] of bodies.entries()) {
      if (everyLineTimestamped(body)) continue;
      await sendRun(i);
      await this.post(nodeId, first, group[i].body, group[i].encoding, before + sent);
      sent += 1;
    }
    await sendRun(bodies.length);
  }

  private async post(
    nodeId: string,
    target: WriteTarget,
    body: Buffer | Buffer[],
    encoding: ContentEncoding,
    delivered: number,
  ): Promise<void> {
    const endpoint = this.endpoints.get(nodeId);
    if (!endpoint) throw new UnknownRelayNodeError(nodeId);
    const url = new URL(endpoint.writeUrl);
    url.search = writeQuery(target);
    const answer = await this.exchange(nodeId, delivered, {
      url,
      agent: endpoint.agent,
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=utf-8',
        ...(encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      },
      body,
      timeoutMs: this.options.timeoutMs,
    });
    throwForStatus(nodeId, answer, delivered);
  }

  /** One request; a network error or timeout becomes a TransientWriteError. */
  private async exchange(
    nodeId: string,
    delivered: number,
    request: NodeRequest,
  ): Promise<NodeAnswer> {
    try {
      const answer = await requestNode(request);
      this.observeVersion(answer.headers);
      return answer;
    } catch (err) {
      const reason =
        err instanceof NodeTimeoutError ? err.message : `network error: ${(err as Error).message}`;
      throw new TransientWriteError(`request to node ${nodeId} failed: ${reason}`, delivered);
    }
  }
}

function throwForStatus(nodeId: string, answer: NodeAnswer, delivered: number): void {
  const { status, body } = answer;
  if (status >= 200 && status < 300) return;
  const reason = `node ${nodeId} answered ${status}${body ? `: ${body.trim()}` : ''}`;
  if (isTransientStatus(status)) throw new TransientWriteError(reason, delivered, status);
  throw new PermanentWriteError(reason, delivered, status, body);
}

/** Decodes entries up to the first bad one; entries behind a bad one wait for the next batch. */
function decodeAll(entries: Buffer[]): { decoded: RelayEntry[]; bad?: BadEnvelopeError } {
  const decoded: RelayEntry[] = [];
  for (const entry of entries) {
    try {
      decoded.push(decodeRelayEntry(entry));
    } catch (err) {
      if (err instanceof BadEnvelopeError) return { decoded, bad: err };
      throw err;
    }
  }
  return { decoded };
}

/** Runs of writes with one target, and each statement alone; order is never changed. */
function groupEntries(entries: RelayEntry[]): (WriteEnvelope[] | StatementEnvelope)[] {
  const groups: (WriteEnvelope[] | StatementEnvelope)[] = [];
  let writes: WriteEnvelope[] = [];
  const flush = () => {
    for (const group of groupByTarget(writes)) groups.push(group);
    writes = [];
  };
  for (const entry of entries) {
    if (entry.kind === 'write') {
      writes.push(entry);
    } else {
      flush();
      groups.push(entry);
    }
  }
  flush();
  return groups;
}

/** The first error a 2xx `/query` answer reports (top level or per statement), if any. */
function statementError(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; results?: { error?: unknown }[] };
    if (typeof parsed.error === 'string') return parsed.error;
    const failed = parsed.results?.find((r) => typeof r.error === 'string');
    return failed ? String(failed.error) : undefined;
  } catch {
    return undefined;
  }
}

/** Consecutive runs with the same target; order is never changed. */
export function groupByTarget(envelopes: WriteEnvelope[]): WriteEnvelope[][] {
  const groups: WriteEnvelope[][] = [];
  for (const envelope of envelopes) {
    const last = groups[groups.length - 1];
    if (last && sameTarget(last[0], envelope)) last.push(envelope);
    else groups.push([envelope]);
  }
  return groups;
}

/**
 * Joins plain-text bodies into request bodies of at most `maxBytes` (a single larger body goes
 * alone), each body ending with a newline so the last line of one never runs into the next.
 */
function chunkLines(bodies: Buffer[], maxBytes: number): { parts: Buffer[]; entries: number }[] {
  const chunks: { parts: Buffer[]; entries: number; bytes: number }[] = [];
  let current = { parts: [] as Buffer[], entries: 0, bytes: 0 };
  for (const body of bodies) {
    const needsNewline = body.length > 0 && body[body.length - 1] !== 0x0a;
    const size = body.length + (needsNewline ? 1 : 0);
    if (current.entries > 0 && current.bytes + size > maxBytes) {
      chunks.push(current);
      current = { parts: [], entries: 0, bytes: 0 };
    }
    if (body.length > 0) current.parts.push(body);
    if (needsNewline) current.parts.push(NEWLINE);
    current.entries += 1;
    current.bytes += size;
  }
  if (current.entries > 0) chunks.push(current);
  return chunks;
}

function withTrailingSlash(url: URL): URL {
  const copy = new URL(url);
  if (!copy.pathname.endsWith('/')) copy.pathname += '/';
  copy.search = '';
  return copy;
}
