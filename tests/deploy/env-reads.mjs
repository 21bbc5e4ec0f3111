// Preloaded (`node --import`) into a deployed service by tests/deploy/manifest-env.test.ts: records
// every environment name the service reads, one per line, into <tmpdir>/coffer-env-reads-<pid>, so
// the test can tell a variable the manifest sets but no code reads (a misspelt name) from one in use.
// It adds nothing to the environment the service sees. Enumerating the environment (Object.keys)
// marks nothing as read: only a lookup by name does.
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const file = path.join(os.tmpdir(), `coffer-env-reads-${process.pid}`);
const seen = new Set();
const note = (name) => {
  if (typeof name !== 'string' || seen.has(name)) return;
  seen.add(name);
  appendFileSync(file, `${name}\n`);
};
const env = process.env;
process.env = new Proxy(env, {
  get(target, name) {
    note(name);
    return Reflect.get(target, name);
  },
  has(target, name) {
    note(name);
    return Reflect.has(target, name);
  },
});
