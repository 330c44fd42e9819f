import type * as http from 'node:http';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import type { NodeConfig } from '../../config/handoff-config.interface';
import type { NodeClient } from '../replay/node-client.interface';
import { NodeTimeoutError, PermanentWriteError, TransientWriteError } from '../replay/errors';
import { isTransientStatus } from '../replay/http-node-client';
import { BadEnvelopeError, UnknownRelayNodeError } from './errors';
import { everyLineTimestamped } from './line-timestamps';
import { keepAliveAgent, requestNode, type NodeAnswer } from './node-request';
import { decodeEnvelope, type WriteEnvelope } from './write-envelope';
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

  constructor(
    nodes: readonly NodeConfig[] | ReadonlyMap<string, string>,
    private readonly options: InfluxNodeClientOptions,
  ) {
    this.maxRequestBytes = options.maxRequestBytes ?? 25 * 1000 * 1000;
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
    await this.post(nodeId, target, body, encoding, 0);
  }

  async send(nodeId: string, entries: Buffer[]): Promise<void> {
    const { envelopes, bad } = decodeAll(entries);
    let delivered = 0;
    for (const group of groupByTarget(envelopes)) {
      await this.sendGroup(nodeId, group, delivered);
      delivered += group.length;
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
    let answer: NodeAnswer;
    try {
      answer = await requestNode({
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
    } catch (err) {
      const reason =
        err instanceof NodeTimeoutError ? err.message : `network error: ${(err as Error).message}`;
      throw new TransientWriteError(`write to node ${nodeId} failed: ${reason}`, delivered);
    }
    throwForStatus(nodeId, answer, delivered);
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
function decodeAll(entries: Buffer[]): { envelopes: WriteEnvelope[]; bad?: BadEnvelopeError } {
  const envelopes: WriteEnvelope[] = [];
  for (const entry of entries) {
    try {
      envelopes.push(decodeEnvelope(entry));
    } catch (err) {
      if (err instanceof BadEnvelopeError) return { envelopes, bad: err };
      throw err;
    }
  }
  return { envelopes };
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
