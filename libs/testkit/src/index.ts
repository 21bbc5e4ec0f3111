export { freePort, type NatsServer, type NatsServerOptions, reachable, startNatsServer } from '@coffer/local-nats';
// The NATS client, re-exported so that tests use the same version as the helpers.
export { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
export { connect, errors } from '@nats-io/transport-node';
export { natsForTests, uniqueNamespace } from './nats.ts';
export {
  createTestDatabase,
  postgresAvailable,
  prepareRuntimeRole,
  requireServices,
  type TestDatabase,
} from './postgres.ts';
