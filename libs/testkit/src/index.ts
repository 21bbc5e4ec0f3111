export { natsForTests, uniqueNamespace } from './nats.ts';
export { freePort, type NatsServer, type NatsServerOptions, startNatsServer } from './nats-server.ts';
export {
  createTestDatabase,
  postgresAvailable,
  prepareRuntimeRole,
  reachable,
  requireServices,
  type TestDatabase,
} from './postgres.ts';
