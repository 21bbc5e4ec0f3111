export { natsForTests, uniqueNamespace } from './nats.ts';
// The NATS client, re-exported so that tests use the same version as the helpers.
export {
  AckPolicy,
  connect,
  errors,
  freePort,
  jetstream,
  jetstreamManager,
  type NatsServer,
  type NatsServerOptions,
  RetentionPolicy,
  StorageType,
  startNatsServer,
} from './nats-server.ts';
export {
  createTestDatabase,
  postgresAvailable,
  prepareRuntimeRole,
  reachable,
  requireServices,
  type TestDatabase,
} from './postgres.ts';
