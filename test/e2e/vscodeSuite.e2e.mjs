// The standard integration suite (test/suite/, mocha through the `vscode` API; `npx vscode-test`
// runs it in a downloaded desktop VS Code) run here inside code-server's extension host: the
// extension loads the compiled suite named by ASYNC_TRACE_TEST_SUITE when the harness asks
// (POST /suite) and reports every test's result (GET /suite). Each mocha test is a subtest here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launch } from './harness.mjs';

const RUNNER = path.join(ROOT, 'out', 'test', 'suite', 'index.js');
let h;
before(async () => {
  const b = spawnSync(process.execPath, [path.join(ROOT, 'test', 'suite', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  assert.equal(b.status, 0, 'the suite compiles (test/suite/build.mjs)');
  h = await launch({ workspace: 'examples', env: { ASYNC_TRACE_TEST_SUITE: RUNNER } });
});
after(async () => {
  await h?.close();
});

test("the integration suite passes in code-server's extension host", async (t) => {
  const start = await h.hooks('/suite', { method: 'POST' });
  assert.equal(start.started, true, JSON.stringify(start));
  const status = await h.waitFor(async () => {
    const s = await h.hooks('/suite');
    return !s.running && (s.report || s.error) && s;
  }, 600000, 'the suite to finish in the extension host');
  assert.equal(status.error, null, `the suite could not run: ${status.error}`);
  const { report } = status;
  for (const r of report.tests) {
    await t.test(r.title, (st) => {
      if (r.state === 'pending') return st.skip('pending in mocha');
      if (r.state === 'failed') throw new Error(r.error);
      return undefined;
    });
  }
  assert.equal(report.failed, 0, `${report.failed} failed`);
  // Every suite file ran (an empty or half-loaded suite must not pass).
  assert.ok(report.passed >= 6, `only ${report.passed} passed: ${report.tests.map((x) => x.title).join('; ')}`);
});
