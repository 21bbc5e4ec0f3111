export {
  createTestDatabase,
  freePort,
  postgresAvailable,
  prepareRuntimeRole,
  reachable,
  requireServices,
  type TestDatabase,
} from './postgres.ts';
