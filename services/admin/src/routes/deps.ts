import type { Bus } from '@coffer/bus';
import type { PasswordParams, PublicKey } from '@coffer/crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RevocationPin } from '../revocation-pin.ts';

/** What the admin routes need, passed as plugin options rather than globals. */
export interface AdminDeps {
  readonly bus: Bus;
  readonly now: () => Date;
  /** Secure cookies; off only for plain-HTTP dev mode on 127.0.0.1. */
  readonly secureCookie: boolean;
  /** A verifier for a password nobody knows: unknown emails cost one argon2id call too. */
  readonly dummyVerifier: string;
  readonly signinPerMinute: number;
  /** Today's argon2id parameters: a stored hash made with less is redone at sign-in. */
  readonly passwordParams: PasswordParams;
  /** The org public key: certificates of key recipients are checked against it. */
  readonly trustRoot: PublicKey<'ed25519'>;
  /** Cryptoperiod of a pre-generated data key. */
  readonly dataKeyDays: number;
  /** The highest revocation-list counter seen, kept outside the database (issue 15, item 2). */
  readonly revocationPin: RevocationPin;
}

/** The API instance a route is added to (the guards and error handler already installed). */
export type AdminApp = Parameters<FastifyPluginAsyncTypebox<AdminDeps>>[0];
/** One route of an area, added by the area's plugin in a fixed order (the OpenAPI file follows it). */
export type AdminRoute<Deps extends AdminDeps = AdminDeps> = (app: AdminApp, deps: Deps) => void;
