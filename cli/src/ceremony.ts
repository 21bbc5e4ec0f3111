/**
 * The bootstrap ceremony lives in @coffer/keyring (pure key work, shared with the admin plane);
 * this module keeps the CLI's imports, and those of tests that start a stack, where they were.
 */
export { CeremonyError, type CeremonyInput, type CeremonyOutput, makeKeyAdmin, runCeremony } from '@coffer/keyring';
