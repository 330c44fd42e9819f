import type { InfluxNodeClient } from '../modules/relay/influx-node-client';

/** One request to a node that has not settled yet. */
export interface SendInFlight {
  node: string;
  kind: 'live write' | 'replay';
  /** Entries of a replay batch (a live write is one). */
  entries: number;
  bytes: number;
  startedAt: number;
}

/**
 * The relay's requests to its nodes that are still open: what a shutdown is waiting for. It
 * wraps the node client's two send paths in place, because the write fan-out and every replayer
 * already hold that very instance.
 */
export class SendsInFlight {
  private readonly open = new Set<SendInFlight>();

  constructor(private readonly now: () => number = Date.now) {}

  track(client: InfluxNodeClient): void {
    const sendLive = client.sendLive.bind(client);
    const send = client.send.bind(client);
    client.sendLive = (node, target, body, encoding) =>
      this.around({ node, kind: 'live write', entries: 1, bytes: body.length }, () =>
        sendLive(node, target, body, encoding),
      );
    client.send = (node, entries) =>
      this.around(
        {
          node,
          kind: 'replay',
          entries: entries.length,
          bytes: entries.reduce((sum, e) => sum + e.length, 0),
        },
        () => send(node, entries),
      );
  }

  list(): readonly SendInFlight[] {
    return [...this.open];
  }

  /** `node b: live write, 1 entry, 1234 bytes, open 3.2 s` — fields for a log line. */
  describe(send: SendInFlight): Record<string, unknown> {
    return {
      node: send.node,
      send: send.kind,
      entries: send.entries,
      bytes: send.bytes,
      openSeconds: Math.round((this.now() - send.startedAt) / 100) / 10,
    };
  }

  private async around<T>(
    send: Omit<SendInFlight, 'startedAt'>,
    run: () => Promise<T>,
  ): Promise<T> {
    const tracked = { ...send, startedAt: this.now() };
    this.open.add(tracked);
    try {
      return await run();
    } finally {
      this.open.delete(tracked);
    }
  }
}
