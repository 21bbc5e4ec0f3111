/**
 * `keys.certify-vault`: store the org key's certificate for a vault reply key, made by a
 * key-admin's session for an installation initialised before replies were signed. The vault
 * checks it against its stored trust root first (a certificate the trust root did not make would
 * only get every later reply refused). From the next request on, the vault holding that key signs
 * its replies (reply-signer.ts).
 */
import { PublicKey, verifyVaultReplyKey } from '@coffer/crypto';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

export function vaultKeyHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'keys.certify-vault'> {
  return {
    'keys.certify-vault': async (req, { now, caller }) => {
      const [org] = await sql<{ trust_root: string }[]>`SELECT trust_root FROM org`;
      if (!org) throw new AdminError('not-initialised', 'this vault is not initialised');
      try {
        verifyVaultReplyKey(PublicKey.fromBase64url('ed25519', org.trust_root), req.key, req.certificate);
      } catch (err) {
        throw new AdminError('bad-signature', `the certificate does not verify: ${(err as Error).message}`);
      }
      await sql.begin(async (tx) => {
        await tx`INSERT INTO vault_reply_keys (public_key, certificate) VALUES (${req.key}, ${req.certificate})
          ON CONFLICT (public_key) DO NOTHING`;
        await auditOrRefuse(
          tx,
          { actor: caller.userId, action: 'vault.certify', target: req.key, outcome: 'success', origin: req.origin },
          now,
        );
      });
    },
  };
}
