export { JetStreamConfigError, NatsUnavailableError } from './errors';
export { JetStreamQueue, type JetStreamQueueOptions } from './jetstream-queue';
export { natsToken, nodeStreamNames, type NodeStreamNames } from './names';
export {
  NatsLink,
  natsConnectionOptions,
  natsServers,
  type NatsLinkState,
  type NatsSettings,
} from './nats-link';
export {
  DEFAULT_LEASE_BUCKET,
  LateLeaseBucket,
  NodeLease,
  openLeaseBucket,
  type LeaseBucket,
  type LeaseBucketOptions,
  type NodeLeaseEvents,
  type NodeLeaseOptions,
} from './node-lease';
