/** DI token of the relay's InfluxNodeClient (the same instance the replayer uses). */
export const RELAY_NODE_CLIENT = Symbol('HANDOFF_RELAY_NODE_CLIENT');

/**
 * The version the relay reports in `X-Influxdb-Version` until a node has told it theirs: the
 * 1.x API it speaks, marked as the relay.
 */
export const RELAY_INFLUX_VERSION = '1.8.10-hh';
export const RELAY_INFLUX_BUILD = 'OSS';
