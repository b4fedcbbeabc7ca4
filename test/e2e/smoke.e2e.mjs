// Smoke test in a real VS Code: the extension activates, its view container and welcome view
// show, its commands are in the command palette and run from there.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { launch } from './harness.mjs';

let h;
before(async () => {
  h = await launch({ workspace: 'examples' });
});
after(async () => {
  await h?.close();
});

test('the extension activates with its test hooks in a trusted workspace', async () => {
  const s = await h.state();
  assert.equal(s.workspaceTrusted, true);
  assert.deepEqual(s.runs, []);
  assert.deepEqual(s.workspaceFolders, [h.workspaceDir]);
});

test('the Async Trace view container shows the Tasks view with its welcome content', async () => {
  const { page } = h;
  const icon = page.locator('.activitybar .action-item a[aria-label^="Async Trace"]').first();
  await icon.waitFor({ state: 'visible', timeout: 20000 });
  await icon.click();
  const sidebar = page.locator('.part.sidebar');
  // With a single view the pane header is hidden and the sidebar title names container and view.
  const title = sidebar.locator('.composite.title .title-label');
  await h.waitFor(async () => /async trace/i.test(await title.innerText()), 20000, 'the sidebar title');
  assert.match(await title.innerText(), /tasks/i);
  const welcome = sidebar.locator('.welcome-view-content');
  await welcome.waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await welcome.innerText(), /No traced run yet/);
  // The welcome view's buttons are the user's first actions.
  for (const label of ['Trace Async Run', 'Open Trace File...']) {
    assert.equal(await welcome.locator('.monaco-button', { hasText: label }).count(), 1, label);
  }
  await h.screenshot('welcome');
});

test('the commands are in the command palette and run from it', async () => {
  const { page } = h;
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible' });
  await input.fill('>Async Trace:');
  const labels = page.locator('.quick-input-widget .monaco-list-row .label-name');
  const expected = [
    'Async Trace: Trace Async Run',
    'Async Trace: Open Trace File...',
    'Async Trace: Show Timeline',
    'Async Trace: Clear All Runs',
  ];
  const texts = await h.waitFor(async () => {
    const all = (await labels.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    return expected.every((e) => all.includes(e)) && all;
  }, 10000, 'the Async Trace commands in the palette');
  // Hidden from the palette on purpose: they need a tree item or a running trace.
  for (const hidden of ['Async Trace: Remove Run', 'Async Trace: Stop Traced Run', 'Async Trace: Open Source Location']) {
    assert.ok(!texts.includes(hidden), `${hidden} should not be in the palette`);
  }
  await h.screenshot('palette');
  await page.keyboard.press('Escape');

  // A command run from the palette executes in the extension host: the open file changes.
  await h.palette('Go to File...');
  await page.keyboard.type('04_gather.py');
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: '04_gather.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  await h.waitFor(async () => (await h.state()).activeEditor?.file?.endsWith('04_gather.py'), 15000, 'editor');
  await h.palette('Async Trace: Clear All Runs');
  assert.deepEqual((await h.state()).runs, []);
});

test('openFile and command() reach the extension host', async () => {
  await h.openFile('03_create_task.py', 5);
  const s = await h.state();
  assert.equal(s.activeEditor.line, 5);
  assert.equal(s.activeEditor.languageId, 'python');
  const result = await h.command('vscode.executeDocumentSymbolProvider', { $uri: `${h.workspaceDir}/03_create_task.py` });
  assert.ok(result === null || Array.isArray(result));
});

test('webviewFrame finds a webview by its tab title and by predicate', async () => {
  // The built-in Markdown preview is a webview: the harness must reach into it like into ours.
  writeFileSync(path.join(h.workspaceDir, 'notes.md'), '# Harness check\n\nHello from the webview.\n');
  await h.openFile('notes.md');
  await h.command('markdown.showPreview');
  const byTitle = await h.webviewFrame('Preview notes.md', 30000);
  await byTitle.locator('h1', { hasText: 'Harness check' }).waitFor({ timeout: 15000 });
  const byPredicate = await h.webviewFrame(async (f) => (await f.locator('h1').count()) > 0);
  assert.equal(byPredicate, byTitle);
  await h.command('workbench.action.closeAllEditors');
});

test('an untrusted workspace stays in Restricted Mode', async () => {
  const u = await launch({ workspace: 'examples', trusted: false });
  try {
    assert.equal((await u.state()).workspaceTrusted, false);
    await u.page.locator('.activitybar .action-item a[aria-label^="Async Trace"]').first().click();
    const welcome = u.page.locator('.part.sidebar .welcome-view-content');
    await u.waitFor(async () => /not trusted/.test(await welcome.innerText()), 20000, 'the untrusted welcome view');
    assert.equal(await welcome.locator('.monaco-button', { hasText: 'Trace Async Run' }).count(), 0);
  } finally {
    await u.close();
  }
});
