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

export interface RelayWrite {
  target: WriteTarget;
  /** The body as the client sent it (gzipped when `encoding` is gzip). */
  body: Buffer;
  encoding: ContentEncoding;
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
    if (this.handoff.isBacklogged(node)) return this.handOff(node, envelopeOf, 'backlogged');
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
      return this.handOff(node, envelopeOf, reason);
    }
    if (this.failing.delete(node)) this.logger.log({ msg: 'live writes flowing again', node });
    return { node, kind: 'delivered' };
  }

  private async handOff(
    node: string,
    envelopeOf: () => Buffer,
    reason: string,
  ): Promise<NodeOutcome> {
    try {
      await this.handoff.enqueue(node, envelopeOf());
      return { node, kind: 'handed-off', reason };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = (err as Error).message;
      this.logger.error({ msg: 'hand-off not stored', node, code, reason: message });
      return { node, kind: 'failed', reason: code ? `${code}: ${message}` : message, code };
    }
  }
}
