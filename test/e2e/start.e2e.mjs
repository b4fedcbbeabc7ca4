// `npm start` as a user meets it: the server prints its URL, the examples folder opens in
// Restricted Mode, and after the user trusts it the Async Trace view offers tracing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, freePort, openBrowser, screenshotPath, waitFor } from './harness.mjs';

const h_screenshot = (page, name) => page.screenshot({ path: screenshotPath(name) });

test('npm start serves VS Code with the extension and the examples folder, asking for trust', async () => {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'asynctrace-start-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['test/e2e/start.mjs', '--no-build', '--port', String(port), '--profile', profile], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  let browser;
  try {
    const url = await waitFor(() => out.match(/http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+/)?.[0], 90000, `the URL in: ${out}`);
    assert.ok(url.startsWith(`http://127.0.0.1:${port}/`));
    assert.ok(decodeURIComponent(url).endsWith(`${path.sep}examples`));

    let page;
    ({ browser, page } = await openBrowser(url));
    // Restricted Mode, as for a folder opened for the first time: the web workbench shows a
    // banner, and the Async Trace welcome view explains why tracing is unavailable.
    await page.locator('.monaco-workbench .part.banner', { hasText: 'Restricted Mode' }).waitFor({ timeout: 30000 });
    await page.locator('.activitybar .action-item a[aria-label^="Async Trace"]').first().click();
    const welcome = page.locator('.part.sidebar .welcome-view-content');
    await waitFor(async () => /not trusted/.test(await welcome.innerText()), 30000, 'the untrusted welcome view');
    await h_screenshot(page, 'start-restricted');
    // The user trusts the folder from the welcome view's link, in the Workspace Trust editor.
    await welcome.locator('a', { hasText: 'Manage Workspace Trust' }).click();
    const trustButton = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
    await trustButton.waitFor({ state: 'visible', timeout: 20000 });
    await trustButton.click();
    await waitFor(async () => /No traced run yet/.test(await welcome.innerText()), 30000, 'the trusted welcome view');
    assert.equal(await welcome.locator('.monaco-button', { hasText: 'Trace Async Run' }).count(), 1);
  } finally {
    await browser?.close().catch(() => {});
    // start.mjs stops code-server on SIGTERM; the group kill is a backstop.
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
    await Promise.race([new Promise((r) => child.once('exit', r)), new Promise((r) => setTimeout(r, 8000))]);
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    rmSync(profile, { recursive: true, force: true });
  }
  assert.match(out, /Press Ctrl\+C to stop/);
});
