// Prints "N passed, N failed[, N skipped]" from vitest's JSON report. A test file that failed
// without a failed test of its own (it did not load, or a hook threw) counts as one failure, and
// a run vitest marks unsuccessful (an unhandled error) never reads as "0 failed".
import { readFileSync } from 'node:fs';

let report;
try {
  report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch {
  console.error('ci: no vitest JSON report was written');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const brokenFiles = report.testResults.filter(
  (f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'),
).length;
const passed = report.numPassedTests;
let failed = report.numFailedTests + brokenFiles;
if (!report.success && failed === 0) failed = 1;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
