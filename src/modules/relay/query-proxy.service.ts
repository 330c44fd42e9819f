import * as http from 'node:http';
import * as https from 'node:https';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HandoffService } from '../replay/handoff.service';
import type { InfluxNodeClient } from './influx-node-client';
import { nodeQueryRequest, type ClientQuery } from './node-query';
import { RELAY_NODE_CLIENT } from './relay.constants';

/** A client's `/query` as the proxy passes it on. */
export type ProxiedQuery = ClientQuery;

/**
 * Passes `/query` to the first node that answers, so the `influx` CLI and client libraries work
 * through the relay. Nodes with an empty queue are asked first: a backlogged node lacks the
 * writes still waiting in its queue. A node "answers" when it sends response headers within the
 * write timeout; the answer is then streamed to the client whatever its status.
 */
@Injectable()
export class QueryProxyService {
  private readonly logger = new Logger('QueryProxy');

  constructor(
    private readonly handoff: HandoffService,
    @Inject(RELAY_NODE_CLIENT) private readonly client: InfluxNodeClient,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  /** Remembers the version a node's query answer reports. */
  observeVersion(headers: http.IncomingHttpHeaders): void {
    this.client.observeVersion(headers);
  }

  /** The first node's answer, body unread; rejects with the last error when no node answers. */
  async forward(query: ProxiedQuery): Promise<http.IncomingMessage> {
    const ids = this.config.nodes.map((n) => n.id);
    const ordered = [
      ...ids.filter((id) => !this.handoff.isBacklogged(id)),
      ...ids.filter((id) => this.handoff.isBacklogged(id)),
    ];
    let lastError: Error = new Error('no nodes configured');
    for (const id of ordered) {
      try {
        return await this.ask(id, query);
      } catch (err) {
        lastError = err as Error;
        this.logger.warn({ msg: 'query node did not answer', node: id, reason: lastError.message });
      }
    }
    throw lastError;
  }

  private ask(id: string, query: ProxiedQuery): Promise<http.IncomingMessage> {
    const { baseUrl, agent } = this.client.endpoint(id);
    const { url, headers } = nodeQueryRequest(baseUrl, query, Boolean(this.config.authToken));
    if (query.body) headers['content-length'] = query.body.length;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method: query.method, agent, headers }, (res) => {
        clearTimeout(timer);
        resolve(res);
      });
      const timer = setTimeout(() => {
        request.destroy(
          new Error(`node ${id} did not answer within ${this.config.writeTimeoutMs} ms`),
        );
      }, this.config.writeTimeoutMs);
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      request.end(query.body);
    });
  }
}
