/**
 * A private nats-server on loopback, for `coffer dev` and for tests alike: the launcher lives here
 * rather than in the test kit so that the CLI does not depend on test code.
 */
export { type NatsServer, type NatsServerOptions, startNatsServer } from './nats-server.ts';
export { freePort, reachable } from './ports.ts';
