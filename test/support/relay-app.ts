import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createRelayApp } from '../../src/app.module';
import { resolveHandoffConfig } from '../../src/config';
import type { HandoffConfig, NodeConfig } from '../../src/config/handoff-config.interface';
import { HandoffService } from '../../src/modules/replay/handoff.service';

export interface RunningRelay {
  url: string;
  app: NestFastifyApplication;
  config: HandoffConfig;
  handoff: HandoffService;
  close(): Promise<void>;
}

/**
 * The real relay app (AppModule on Fastify) listening on a loopback port, with its data dir in a
 * fresh temp dir removed by `close()`. The retry interval is long so that a test decides when
 * the queue replays (replayNow), not a timer.
 */
export async function startRelay(
  nodes: NodeConfig[],
  options: Partial<HandoffConfig> = {},
): Promise<RunningRelay> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'hh-relay-'));
  const config = resolveHandoffConfig(
    {
      dataDir,
      nodes,
      port: 0,
      retryIntervalMs: 3_600_000,
      retryMaxIntervalMs: 3_600_000,
      writeTimeoutMs: 2_000,
      ...options,
    },
    {},
  );
  const app = await createRelayApp(config, { logger: false });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await app.close();
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    config,
    handoff: app.get(HandoffService),
    close: async () => {
      await app.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
