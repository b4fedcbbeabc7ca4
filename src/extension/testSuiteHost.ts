// Runs the integration suite (test/suite/, compiled to out/test/suite/) inside this extension host.
// `npx vscode-test` starts a desktop VS Code that loads the suite itself; code-server cannot (it has
// no --extensionTestsPath), so the e2e harness starts it with ASYNC_TRACE_TEST_SUITE naming the
// compiled runner (out/test/suite/index.js) and asks over the test hooks: POST /suite starts it,
// GET /suite says whether it is done and, when it is, every test's result.
export interface SuiteTestResult { title: string; state: 'passed' | 'failed' | 'pending'; durationMs?: number; error?: string }
export interface SuiteReport { passed: number; failed: number; pending: number; tests: SuiteTestResult[] }
interface SuiteRunner { runSuite(): Promise<SuiteReport> }

let report: SuiteReport | undefined;
let failure: string | undefined;
let running = false;

/** Starts the suite once per extension host; later calls only report. */
export function startSuite(): { started: boolean; error?: string } {
  const file = process.env.ASYNC_TRACE_TEST_SUITE;
  if (!file) return { started: false, error: 'ASYNC_TRACE_TEST_SUITE is not set' };
  if (running || report || failure) return { started: false };
  running = true;
  // The suite is not part of the bundle: load the compiled file the environment names, with Node's
  // own require, so it finds mocha in the project's node_modules.
  void (async () => {
    try {
      const runner = require(file) as SuiteRunner;
      report = await runner.runSuite();
    } catch (err) {
      failure = err instanceof Error ? (err.stack ?? err.message) : String(err);
    } finally {
      running = false;
    }
  })();
  return { started: true };
}

export function suiteStatus(): { running: boolean; report: SuiteReport | null; error: string | null } {
  return { running, report: report ?? null, error: failure ?? null };
}
