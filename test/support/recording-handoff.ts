/** Test support: the operator routes over a HandoffService that records what it is asked. */
import { Global, Injectable, Module, type ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { HANDOFF_CONFIG } from '../../src/config/handoff-config.constants';
import type { HandoffConfig } from '../../src/config/handoff-config.interface';
import { AdminModule } from '../../src/modules/admin/admin.module';
import { UnknownNodeError } from '../../src/modules/replay/errors';
import { HandoffService } from '../../src/modules/replay/handoff.service';
import type { DeadLetter, NodeStatus } from '../../src/modules/replay/node-status.interface';

type ModuleImports = NonNullable<ModuleMetadata['imports']>;

export function status(id: string, patch: Partial<NodeStatus> = {}): NodeStatus {
  return {
    id,
    url: `http://127.0.0.1:1/${id}`,
    state: 'up',
    configured: true,
    open: true,
    backlog: { entries: 0, bytes: 0, oldestAgeSeconds: null },
    diskBytes: 0,
    maxSize: 1000,
    deadLetters: 0,
    backoffMs: 0,
    ...patch,
  };
}

/** Records what the routes ask of the service; the service's own behaviour is tested in replay. */
@Injectable()
export class RecordingHandoff {
  calls: string[] = [];
  statuses = new Map<string, NodeStatus>([
    ['a', status('a')],
    ['b.2', status('b.2')],
  ]);
  letters: DeadLetter[] = [
    {
      index: 0,
      size: 12,
      at: '2026-01-01T00:00:01.000Z',
      appendedAt: '2026-01-01T00:00:00.000Z',
      status: 400,
      error: 'unable to parse',
    },
    {
      index: 1,
      size: 7,
      at: '2026-01-01T00:00:02.000Z',
      appendedAt: '2026-01-01T00:00:00.500Z',
      status: 400,
      error: 'field type conflict',
    },
  ];

  nodes(): NodeStatus[] {
    return [...this.statuses.values()];
  }
  hasNode(id: string): boolean {
    this.calls.push(`hasNode ${id}`);
    return this.statuses.has(id);
  }
  node(id: string): NodeStatus {
    const s = this.statuses.get(id);
    if (!s) throw new UnknownNodeError(id);
    return s;
  }
  pause(id: string): void {
    this.calls.push(`pause ${id}`);
    // A removed node's directory deleted between the route's id check and the call.
    if (this.removeOnPause) this.statuses.delete(id);
    this.statuses.set(id, { ...this.node(id), state: 'paused' });
  }
  resume(id: string): void {
    this.calls.push(`resume ${id}`);
    this.statuses.set(id, { ...this.node(id), state: 'up' });
  }
  async replayNow(id: string): Promise<number> {
    this.calls.push(`replayNow ${id}`);
    return 42;
  }
  async purge(id: string) {
    this.calls.push(`purge ${id}`);
    if (this.failure) throw this.failure;
    return { entries: 3, bytes: 30, segments: 1 };
  }
  async deadLetters(id: string, limit?: number): Promise<DeadLetter[]> {
    this.calls.push(`deadLetters ${id} ${limit}`);
    return this.letters.slice(0, limit ?? this.letters.length);
  }
  removeOnPause = false;
  /** What the next purge or requeue rejects with, as the real service would. */
  failure: Error | undefined;
  async requeueDeadLetters(id: string): Promise<number> {
    this.calls.push(`requeue ${id}`);
    if (this.failure) throw this.failure;
    return 2;
  }
}

/** The admin routes on Fastify over a recording HandoffService, with the given tokens. */
export async function startAdminApp(
  tokens: Partial<HandoffConfig> = {},
  imports: ModuleImports = [AdminModule],
): Promise<NestFastifyApplication> {
  @Global()
  @Module({
    providers: [
      RecordingHandoff,
      { provide: HandoffService, useExisting: RecordingHandoff },
      { provide: HANDOFF_CONFIG, useValue: { ...tokens } as HandoffConfig },
    ],
    exports: [HandoffService, HANDOFF_CONFIG, RecordingHandoff],
  })
  class FakeHandoffModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [FakeHandoffModule, ...imports],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
    logger: false,
  });
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
