/** A migrated test database with owner and runtime connections, and a signed data key helper. */
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { createTestDatabase, prepareRuntimeRole } from '@coffer/testkit';
import postgres from 'postgres';
import { migrate } from '../src/db/migrate.ts';

export interface VaultDatabase {
  /** Superuser on the test database: migrates, and tampers where a test needs to. */
  readonly owner: postgres.Sql;
  /** coffer_vault, the role the vault runs as. */
  readonly runtime: postgres.Sql;
  readonly runtimeUrl: string;
  readonly ownerUrl: string;
  drop(): Promise<void>;
}

export async function createVaultDatabase(): Promise<VaultDatabase> {
  const db = await createTestDatabase();
  const owner = postgres(db.ownerUrl, { max: 2, onnotice: () => {} });
  await migrate(owner);
  await prepareRuntimeRole(db);
  const runtime = postgres(db.runtimeUrl, { max: 4, onnotice: () => {} });
  return {
    owner,
    runtime,
    runtimeUrl: db.runtimeUrl,
    ownerUrl: db.ownerUrl,
    async drop() {
      await runtime.end();
      await owner.end();
      await db.drop();
    },
  };
}

export const testOrgKey = PrivateKey.generate('ed25519');

/** Insert a data key signed by `testOrgKey`, as `coffer init` would. */
export async function insertDataKey(sql: postgres.Sql, notBefore: Date, notAfter: Date) {
  const key = PrivateKey.generate('x25519');
  const bundle = {
    id: newRecordId(),
    publicKey: key.publicKey.toBase64url(),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  };
  const signature = signDataKeyBundle(testOrgKey, bundle);
  await sql`INSERT INTO data_keys (id, public_key, not_before, not_after, bundle, signature)
    VALUES (${bundle.id}, ${bundle.publicKey}, ${bundle.notBefore}, ${bundle.notAfter}, ${sql.json(bundle)}, ${signature})`;
  return { key, bundle, signature };
}
