import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WriteConsistency } from '../../config/defaults';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { PermanentWriteError } from '../replay/errors';
import { HandoffService } from '../replay/handoff.service';
import type { InfluxNodeClient } from './influx-node-client';
import { RELAY_NODE_CLIENT } from './relay.constants';
import { encodeEnvelope } from './write-envelope';
import type { ContentEncoding, WriteTarget } from './write-target';
import { verdictOf, type NodeOutcome, type WriteVerdict } from './write-verdict';
import { splitLines } from './split-lines';
import { inflateBody } from './write-body';

export interface RelayWrite {
  target: WriteTarget;
  /** The body as the client sent it (gzipped when `encoding` is gzip). */
  body: Buffer;
  encoding: ContentEncoding;
  /** A gzip body inflated (the controller inflates it to check it): what a split hand-off cuts. */
  inflated?: Buffer;
  consistency: WriteConsistency;
}

/**
 * Sends one `/write` to every configured node in parallel and hands off, durably, each copy a
 * node cannot take now. Per node: a backlogged node gets the write behind its queue (a write never
 * overtakes an older one); otherwise it is sent live, and a transient failure or timeout hands it
 * off. The promise resolves only when every copy is delivered, refused, or its append resolved.
 */
@Injectable()
export class WriteFanoutService {
  private readonly logger = new Logger('WriteFanout');
  /** Nodes whose last live write failed: one log line per outage, not one per write. */
  private readonly failing = new Set<string>();

  constructor(
    private readonly handoff: HandoffService,
    @Inject(RELAY_NODE_CLIENT) private readonly client: InfluxNodeClient,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  async write(write: RelayWrite): Promise<{ verdict: WriteVerdict; outcomes: NodeOutcome[] }> {
    let envelope: Buffer | undefined;
    // Encoded once, and only when some node needs a hand-off.
    const envelopeOf = () =>
      (envelope ??= encodeEnvelope({
        ...write.target,
        encoding: write.encoding,
        body: write.body,
      }));
    const outcomes = await Promise.all(
      this.config.nodes.map(({ id }) => this.writeToNode(id, write, envelopeOf)),
    );
    return { verdict: verdictOf(outcomes, write.consistency), outcomes };
  }

  private async writeToNode(
    node: string,
    write: RelayWrite,
    envelopeOf: () => Buffer,
  ): Promise<NodeOutcome> {
    if (this.handoff.isBacklogged(node)) return this.handOff(node, write, envelopeOf, 'backlogged');
    try {
      await this.client.sendLive(node, write.target, write.body, write.encoding);
    } catch (err) {
      if (err instanceof PermanentWriteError) {
        this.logger.warn({
          msg: 'node rejected write',
          node,
          status: err.status,
          db: write.target.db,
        });
        return {
          node,
          kind: 'rejected',
          status: err.status ?? 400,
          message: err.message,
          response: err.response,
        };
      }
      const reason = (err as Error).message;
      if (!this.failing.has(node)) {
        this.failing.add(node);
        this.logger.warn({ msg: 'live write failed, handing off', node, reason });
      }
      return this.handOff(node, write, envelopeOf, reason);
    }
    if (this.failing.delete(node)) this.logger.log({ msg: 'live writes flowing again', node });
    return { node, kind: 'delivered' };
  }

  private async handOff(
    node: string,
    write: RelayWrite,
    envelopeOf: () => Buffer,
    reason: string,
  ): Promise<NodeOutcome> {
    try {
      for (const entry of await this.entriesFor(node, write, envelopeOf)) {
        await this.handoff.enqueue(node, entry);
      }
      return { node, kind: 'handed-off', reason };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = (err as Error).message;
      this.logger.error({ msg: 'hand-off not stored', node, code, reason: message });
      return { node, kind: 'failed', reason: code ? `${code}: ${message}` : message, code };
    }
  }

  /**
   * The queue entries of one hand-off: the envelope as the client sent it when it fits a queue
   * segment; otherwise the body (inflated when gzip) cut between points into envelopes that each
   * fit (HH_MAX_BODY_SIZE may be larger than HH_MAX_SEGMENT_SIZE). A single line too large for
   * a segment cannot be cut: the envelope is returned whole and its append says why it failed.
   */
  private async entriesFor(
    node: string,
    write: RelayWrite,
    envelopeOf: () => Buffer,
  ): Promise<Buffer[]> {
    const envelope = envelopeOf();
    const limit = this.handoff.queueOf(node).maxEntrySize();
    if (envelope.length <= limit) return [envelope];
    const target = { ...write.target, encoding: 'identity' as const };
    const headerBytes = encodeEnvelope({ ...target, body: Buffer.alloc(0) }).length;
    const body =
      write.encoding === 'gzip'
        ? (write.inflated ?? (await inflateBody(write.body, this.config.maxBodySize)))
        : write.body;
    const pieces = splitLines(body, limit - headerBytes);
    if (!pieces) return [envelope];
    return pieces.map((piece) => encodeEnvelope({ ...target, body: piece }));
  }
}
