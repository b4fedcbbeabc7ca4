// Runs every compiled *.test.js next to this file with mocha, inside the extension host it is loaded
// in. Two ways in: `run()` is the standard entry of @vscode/test-electron's extensionTestsPath;
// `runSuite()` is what the extension calls in code-server when ASYNC_TRACE_TEST_SUITE names this
// file (src/extension/testSuiteHost.ts), returning every test's result for the e2e harness.
// (`npx vscode-test` reads .vscode-test.mjs and loads the same *.test.js files with its own mocha.)
import { readdirSync } from 'node:fs';
import path from 'node:path';
import Mocha from 'mocha';
import type { SuiteReport } from '../../src/extension/testSuiteHost';

export function runSuite(): Promise<SuiteReport> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 180_000, color: false, reporter: 'spec' });
  for (const f of readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  const report: SuiteReport = { passed: 0, failed: 0, pending: 0, tests: [] };
  return new Promise((resolve, reject) => {
    try {
      mocha
        .run(() => resolve(report))
        .on('pass', (t) => { report.passed++; report.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration }); })
        .on('pending', (t) => { report.pending++; report.tests.push({ title: t.fullTitle(), state: 'pending' }); })
        // Hooks fail too ("before all" hook in ...): they are reported as tests that failed.
        .on('fail', (t, err: Error) => {
          report.failed++;
          report.tests.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration, error: err?.stack ?? String(err) });
        });
    } catch (err) {
      reject(err);
    }
  });
}

export async function run(): Promise<void> {
  const report = await runSuite();
  if (report.failed > 0) throw new Error(`${report.failed} of ${report.tests.length} integration tests failed`);
}
