/**
 * A real NATS with JetStream for tests: NATS_URL if set, else the local server on 127.0.0.1:4222,
 * else a private nats-server started for this test process. Tests share it safely by giving their
 * streams and subjects a unique namespace. When none can be had, tests skip — unless
 * COFFER_REQUIRE_SERVICES=1, when they fail.
 */
import { randomBytes } from 'node:crypto';
import { reachable, startNatsServer } from '@coffer/local-nats';
import { requireServices } from './postgres.ts';

let found: Promise<string | undefined> | undefined;

async function find(): Promise<string | undefined> {
  if (process.env.NATS_URL) return process.env.NATS_URL;
  if (await reachable('127.0.0.1', 4222)) return 'nats://127.0.0.1:4222';
  try {
    return (await startNatsServer()).url;
  } catch (err) {
    if (requireServices()) throw new Error(`no NATS for tests: ${(err as Error).message}`);
    return undefined;
  }
}

/** URL of a NATS server for tests, or undefined when there is none (tests then skip). */
export function natsForTests(): Promise<string | undefined> {
  found ??= find();
  return found;
}

/** A bus namespace no other test uses (see busNames in @coffer/protocol). */
export function uniqueNamespace(): string {
  return `t${randomBytes(6).toString('hex')}`;
}
