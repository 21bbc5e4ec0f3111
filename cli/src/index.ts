/** What other packages (tests, benchmarks) may use of the CLI: the ceremony, the planes in one process, recovery. */
export { type CeremonyOutput, runCeremony } from './ceremony.ts';
export { type Planes, type PlanesOptions, startPlanes } from './planes.ts';
export { runRecovery } from './recovery.ts';
