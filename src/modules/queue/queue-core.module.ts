import { Module } from '@nestjs/common';
import { HandoffQueueRegistry } from './handoff-queue-registry';
import { QueueRegistry } from './queue-registry';

/**
 * The shared providers: one registry per application. A static class, so every
 * `QueueModule.registerQueue()` that imports it gets this same instance (the @nestjs/bullmq
 * pattern), never a second registry fighting the first over the lock files. It reads
 * QUEUE_MODULE_OPTIONS from the global module `QueueModule.forRoot*()` returns.
 */
@Module({
  providers: [HandoffQueueRegistry, { provide: QueueRegistry, useExisting: HandoffQueueRegistry }],
  exports: [HandoffQueueRegistry, QueueRegistry],
})
export class QueueCoreModule {}
