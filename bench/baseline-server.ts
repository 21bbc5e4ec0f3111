/**
 * The naive design `pnpm bench:ingest` compares Coffer's ingest with: one fastify route that
 * encrypts the value with AES-256-GCM under a key from the environment and INSERTs the row
 * straight into PostgreSQL, answering 201 after the INSERT. No bus, no public-key sealing, no
 * logging, no security headers, no rate limit — the least work a "store it encrypted" endpoint does.
 */
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import postgres from 'postgres';

export const BASELINE_KEY_ENV = 'BENCH_BASELINE_AES_KEY';

export interface Baseline {
  readonly url: string;
  close(): Promise<void>;
}

const Body = {
  type: 'object',
  properties: {
    type: { type: 'string', enum: ['pan', 'ssn', 'secret'] },
    value: { type: 'string', minLength: 1, maxLength: 4096 },
  },
  required: ['type', 'value'],
  additionalProperties: false,
} as const;

function encrypt(key: Buffer, value: string): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]);
}

/** Start the baseline on `port`, storing into the (fresh) database at `databaseUrl`. */
export async function startBaseline(databaseUrl: string, host: string, port: number): Promise<Baseline> {
  const hex = process.env[BASELINE_KEY_ENV] ?? '';
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${BASELINE_KEY_ENV} must hold 32 bytes as hex`);
  const key = Buffer.from(hex, 'hex');
  const sql = postgres(databaseUrl, { max: 10, onnotice: () => {} });
  await sql`CREATE TABLE IF NOT EXISTS records (
    id uuid PRIMARY KEY, type text NOT NULL, ciphertext bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`;

  const app = Fastify({ logger: false });
  app.post('/v1/records', { schema: { body: Body } }, async (req, reply) => {
    const body = req.body as { type: string; value: string };
    const id = randomUUID();
    const ciphertext = encrypt(key, body.value);
    await sql`INSERT INTO records (id, type, ciphertext) VALUES (${id}, ${body.type}, ${ciphertext})`;
    return reply.code(201).send({ id });
  });
  const url = await app.listen({ host, port });
  return {
    url,
    async close() {
      await app.close();
      await sql.end({ timeout: 5 });
    },
  };
}
