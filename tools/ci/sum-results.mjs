#!/usr/bin/env node
// Sums jest's --json result files into the one closing line CI reads: `N passed, N failed`.
// A suite that could not run (syntax error, failing hook) counts as one failure, and a failed
// step before the tests (typecheck, lint, build) counts as one failure too.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [dir, priorStatus] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(dir)) {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const result = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    passed += result.numPassedTests;
    failed += result.numFailedTests;
    skipped += result.numPendingTests + result.numTodoTests;
    for (const suite of result.testResults) {
      // A suite that failed without a failing test did not run (or a hook broke it).
      if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) failed += 1;
    }
  }
}
if (priorStatus !== '0' && failed === 0) failed = 1;
console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
