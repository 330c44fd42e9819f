import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { QueueModuleOptions } from './queue-module-options.interface';
import { QueueRegistry } from './queue-registry';
import { QUEUE_MODULE_OPTIONS } from './queue.constants';

/**
 * The QueueRegistry as a Nest provider (also injectable as `QueueRegistry`). Queues are closed in
 * onApplicationShutdown, the last hook, so services that flush into them in onModuleDestroy or
 * beforeApplicationShutdown still find them open.
 */
@Injectable()
export class HandoffQueueRegistry extends QueueRegistry implements OnApplicationShutdown {
  constructor(@Inject(QUEUE_MODULE_OPTIONS) options: QueueModuleOptions) {
    super(options);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAll();
  }
}
