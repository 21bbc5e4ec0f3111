/** What other packages (tests, benchmarks) may use of the CLI: the ceremony, the planes in one process, recovery, audit verification. */
export { type CeremonyOutput, runCeremony } from './ceremony.ts';
export { auditCommand } from './commands/audit.ts';
export { type DemoPage, startDemoPage } from './demo-page.ts';
export { metrics, runChecks } from './monitor.ts';
export { createRootCa, issueLeaf, type LeafRequest } from './pki/certificates.ts';
export { caFiles, leafFiles, writeCa, writeLeaf } from './pki/store.ts';
export { type Planes, type PlanesOptions, startPlanes } from './planes.ts';
export { prepareRecoveryRelease, releaseRecoveryNow, runRecovery } from './recovery.ts';
export { type ResealOptions, type ResealResult, runReseal } from './reseal.ts';
export { runSuiteChange, type SuiteChangeOptions, type SuiteChangeResult } from './suite.ts';
