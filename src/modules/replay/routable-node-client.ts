import type { NodeClient } from './node-client.interface';

/**
 * A NodeClient that can be pointed at a node by URL at run time (HttpNodeClient, the relay's
 * InfluxNodeClient). Nodes added with a URL, and removed nodes drained to their last URL, need
 * this; a client without it serves only the nodes it was built with.
 */
export interface RoutableNodeClient extends NodeClient {
  addNode(id: string, url: string): void;
  hasNode(id: string): boolean;
}

export function isRoutable(client: NodeClient): client is RoutableNodeClient {
  const c = client as Partial<RoutableNodeClient>;
  return typeof c.addNode === 'function' && typeof c.hasNode === 'function';
}
