/** What other packages (`pnpm dev`, cross-service tests) may use of the admin plane. */
export { type AdminOptions, buildAdmin } from './app.ts';
export { adminLogger } from './log.ts';
export { COOKIE, CSRF_HEADER } from './session.ts';
export { newTotp, sealTotpSecret } from './totp.ts';
