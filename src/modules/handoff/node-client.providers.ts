import type { Provider, Type } from '@nestjs/common';
import { HANDOFF_CONFIG } from '../../config/handoff-config.constants';
import type { HandoffConfig } from '../../config/handoff-config.interface';
import { HttpNodeClient } from '../replay/http-node-client';
import { NODE_CLIENT, type NodeClient } from '../replay/node-client.interface';
import { HANDOFF_CLIENT_REF } from './hinted-handoff.constants';

/** The transport and whether the module made it: only a client it made is closed by it. */
export interface NodeClientRef {
  client: NodeClient;
  owned: boolean;
}

/** A class is told from an instance the way @nestjs/throttler tells its storage: by `typeof`. */
function isClientClass(client: Type<NodeClient> | NodeClient): client is Type<NodeClient> {
  return typeof client === 'function';
}

/**
 * NODE_CLIENT, always provided, so the replay and the live path of HandoffWriter share one
 * transport (and one keep-alive pool): the host's class or instance, else an HttpNodeClient
 * over the configured nodes posting newline-joined batches.
 */
export function nodeClientProviders(client?: Type<NodeClient> | NodeClient): Provider[] {
  if (client === undefined) {
    return [
      {
        provide: HANDOFF_CLIENT_REF,
        useFactory: (config: HandoffConfig): NodeClientRef => ({
          client: HttpNodeClient.forConfig(config, config.nodes),
          owned: true,
        }),
        inject: [HANDOFF_CONFIG],
      },
      {
        provide: NODE_CLIENT,
        useFactory: (ref: NodeClientRef) => ref.client,
        inject: [HANDOFF_CLIENT_REF],
      },
    ];
  }
  const clientProvider: Provider = isClientClass(client)
    ? { provide: NODE_CLIENT, useClass: client }
    : { provide: NODE_CLIENT, useValue: client };
  return [
    clientProvider,
    {
      provide: HANDOFF_CLIENT_REF,
      useFactory: (c: NodeClient): NodeClientRef => ({ client: c, owned: false }),
      inject: [NODE_CLIENT],
    },
  ];
}
