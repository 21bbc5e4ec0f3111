/** The server's password policy, in its own chunk (see lazy.ts). */
export { passwordStrength } from '@coffer/policy';
