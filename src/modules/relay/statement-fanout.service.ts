import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WriteConsistency } from '../../config/defaults';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { isTransientStatus } from '../replay/http-node-client';
import { HandoffService } from '../replay/handoff.service';
import { splitStatements } from './influxql';
import type { InfluxNodeClient } from './influx-node-client';
import { nodeQueryRequest, type ClientQuery } from './node-query';
import { requestNode, type NodeAnswer } from './node-request';
import { RELAY_NODE_CLIENT } from './relay.constants';
import { encodeStatementEnvelope } from './statement-envelope';
import { verdictOf, type NodeOutcome } from './write-verdict';

/** What the client gets for a state-changing query. */
export interface StatementAnswer {
  status: number;
  contentType: string;
  body: Buffer | string;
}

/** The largest node answer read for a statement (results of DDL are a few bytes). */
const MAX_STATEMENT_ANSWER = 1024 * 1024;
const JSON_TYPE = 'application/json';

type LiveOutcome = NodeOutcome | { node: string; kind: 'pending'; reason: string };

/**
 * Runs a state-changing query (CREATE, DROP, ALTER, DELETE, GRANT, REVOKE, SET PASSWORD, KILL,
 * SELECT … INTO) on every node, as `/write` does with points: live on each node without a
 * backlog, and handed off into the node's queue — behind its writes, in order — when the node is
 * backlogged, down, times out or answers 408/429/5xx. The answer follows `/write`'s consistency
 * rules and carries a node's own JSON result.
 *
 * Who may leave a statement for later: it is replayed with the node's own credentials
 * (`HH_NODES`), so it is handed off only for a client the relay trusts — one it authenticated
 * itself (`HH_AUTH_TOKEN`), or, without a token, one whose own credentials a live node just
 * accepted for this very statement. With no token and no node up to check them, nothing is
 * handed off and the client gets 503. A statement a live node refused is handed off to no one.
 */
@Injectable()
export class StatementFanoutService {
  private readonly logger = new Logger('StatementFanout');

  constructor(
    private readonly handoff: HandoffService,
    @Inject(RELAY_NODE_CLIENT) private readonly client: InfluxNodeClient,
    @Inject(HANDOFF_CONFIG) private readonly config: HandoffConfig,
  ) {}

  async run(
    query: ClientQuery,
    params: URLSearchParams,
    consistency: WriteConsistency,
  ): Promise<StatementAnswer> {
    const q = params.get('q') ?? '';
    const relayAuthenticated = Boolean(this.config.authToken);
    const answers = new Map<string, NodeAnswer>();
    const live: LiveOutcome[] = await Promise.all(
      this.config.nodes.map(({ id }) =>
        this.handoff.isBacklogged(id)
          ? { node: id, kind: 'pending' as const, reason: 'backlogged' }
          : this.ask(id, query, relayAuthenticated, answers),
      ),
    );
    const refusal = live.find((o) => o.kind === 'rejected');
    const trusted = relayAuthenticated || live.some((o) => o.kind === 'delivered');
    let envelope: Buffer | undefined;
    const outcomes = await Promise.all(
      live.map(async (outcome): Promise<NodeOutcome> => {
        if (outcome.kind !== 'pending') return outcome;
        // A statement one node refused is not left for another to apply later: they would drift.
        if (refusal || !trusted) {
          const why = refusal
            ? `node ${refusal.node} refused it`
            : 'no node was up to accept the client credentials; retry when a node answers';
          return {
            node: outcome.node,
            kind: 'failed',
            reason: `statement not handed off (${outcome.reason}): ${why}`,
          };
        }
        envelope ??= encodeStatementEnvelope({
          q,
          db: params.get('db') ?? '',
          rp: params.get('rp') ?? '',
          params: params.get('params') ?? '',
        });
        return this.handOff(outcome.node, envelope, outcome.reason);
      }),
    );
    return this.answerOf(outcomes, answers, consistency, q);
  }

  private answerOf(
    outcomes: NodeOutcome[],
    answers: Map<string, NodeAnswer>,
    consistency: WriteConsistency,
    q: string,
  ): StatementAnswer {
    const rejected = outcomes.find((o) => o.kind === 'rejected');
    // A node refused the statement (bad syntax, authorization): its own answer, as it gave it.
    if (rejected) return asAnswer(answers.get(rejected.node)!);
    const verdict = verdictOf(outcomes, consistency);
    if (verdict.status !== 204) {
      return {
        status: verdict.status,
        contentType: JSON_TYPE,
        body: JSON.stringify({ error: verdict.error }),
      };
    }
    const delivered = outcomes.find((o) => o.kind === 'delivered');
    if (delivered) return asAnswer(answers.get(delivered.node)!);
    // Every node has it handed off: what InfluxDB answers to statements that return nothing.
    const results = splitStatements(q).map((_s, i) => ({ statement_id: i }));
    return { status: 200, contentType: JSON_TYPE, body: JSON.stringify({ results }) };
  }

  private async ask(
    node: string,
    query: ClientQuery,
    relayAuthenticated: boolean,
    answers: Map<string, NodeAnswer>,
  ): Promise<LiveOutcome> {
    const { baseUrl, agent } = this.client.endpoint(node);
    const { url, headers } = nodeQueryRequest(baseUrl, query, relayAuthenticated);
    // The answer is read here and re-sent: ask for it plain, whatever the client accepts.
    delete headers['accept-encoding'];
    let answer: NodeAnswer;
    try {
      answer = await requestNode({
        url,
        agent,
        method: query.method,
        headers,
        body: query.body,
        timeoutMs: this.config.writeTimeoutMs,
        maxAnswerBytes: MAX_STATEMENT_ANSWER,
      });
    } catch (err) {
      return { node, kind: 'pending', reason: (err as Error).message };
    }
    this.client.observeVersion(answer.headers);
    answers.set(node, answer);
    if (answer.status >= 200 && answer.status < 300) return { node, kind: 'delivered' };
    if (isTransientStatus(answer.status) || answer.status < 400) {
      return { node, kind: 'pending', reason: `node answered ${answer.status}` };
    }
    this.logger.warn({ msg: 'node refused statement', node, status: answer.status });
    return { node, kind: 'rejected', status: answer.status, message: answer.body };
  }

  private async handOff(node: string, envelope: Buffer, reason: string): Promise<NodeOutcome> {
    try {
      await this.handoff.enqueue(node, envelope);
      this.logger.log({ msg: 'statement handed off', node, reason });
      return { node, kind: 'handed-off', reason };
    } catch (err) {
      const code = (err as { code?: string }).code;
      const message = (err as Error).message;
      this.logger.error({ msg: 'statement hand-off not stored', node, code, reason: message });
      return { node, kind: 'failed', reason: code ? `${code}: ${message}` : message, code };
    }
  }
}

function asAnswer(answer: NodeAnswer): StatementAnswer {
  const type = answer.headers['content-type'];
  return {
    status: answer.status,
    contentType: typeof type === 'string' ? type : JSON_TYPE,
    body: answer.bytes,
  };
}
