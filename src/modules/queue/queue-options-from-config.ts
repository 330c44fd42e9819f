import type { HandoffConfig } from '../../config/handoff-config.interface';
import type { QueueModuleOptions } from './queue-module-options.interface';

/** The queue settings of the resolved HH_* configuration: one place maps config to queues. */
export function queueOptionsFromConfig(config: HandoffConfig): QueueModuleOptions {
  return {
    dataDir: config.dataDir,
    queueOptions: {
      maxSize: config.maxSize,
      maxSegmentSize: config.maxSegmentSize,
      fsync: config.fsync,
      fsyncIntervalMs: config.fsyncIntervalMs,
    },
  };
}
