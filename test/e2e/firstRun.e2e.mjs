// A newcomer's first traced run shows the product: the Async Trace view opens by itself when the
// run starts, and the end message offers the timeline (which opens on click). Later runs of the
// same window do neither, and the setting turns both off.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launch } from './harness.mjs';

const toasts = (page) => page.locator('.notifications-toasts .notification-toast');

describe('first traced run of a window', () => {
  let h;
  before(async () => {
    // A fresh profile, as a newcomer's: the reveal is on by default.
    h = await launch({ workspace: 'examples', settings: { 'asyncTrace.revealOnFirstRun': true } });
  });
  after(async () => {
    await h?.close();
  });

  test('reveals the Tasks view and offers the timeline at the end', async () => {
    const { page } = h;
    const sideBarTitle = page.locator('.part.sidebar .composite.title');
    // The Explorer is what a newcomer sees before the first run.
    await h.command('workbench.view.explorer');
    await h.openFile('03_create_task.py');
    assert.doesNotMatch(await sideBarTitle.innerText(), /Async Trace/i);
    await h.palette('Async Trace: Trace Async Run');

    await h.waitFor(async () => /Async Trace/i.test(await sideBarTitle.innerText({ timeout: 500 })), 15000, 'the Async Trace view to open');
    await h.waitFor(async () => (await h.state()).runs[0]?.exit, 30000, 'the run to end');

    const toast = toasts(page).filter({ hasText: 'Traced 03_create_task.py' }).first();
    await h.waitFor(async () => (await toast.count()) > 0, 15000, 'the end message');
    const text = await toast.innerText();
    assert.match(text, /exit code 0, \d+ tasks, \d+ events/);
    await h.screenshot('first-run-end');
    await toast.getByRole('button', { name: 'Show Timeline' }).click();
    await h.webviewFrame('Async Trace Timeline', 20000);
    const st = await h.state();
    assert.ok(st.timeline, 'the timeline reports its state once open');
  });

  test('a second run of the window neither reveals nor asks again', async () => {
    const { page } = h;
    await h.command('notifications.clearAll').catch(() => undefined);
    await h.command('workbench.view.explorer');
    await h.openFile('01_run_hello.py');
    const before = (await h.state()).runs.length;
    await h.palette('Async Trace: Trace Async Run');
    await h.waitFor(async () => {
      const s = await h.state();
      return s.runs.length > before && s.runs.every((r) => r.exit);
    }, 30000, 'the second run to end');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await toasts(page).filter({ hasText: 'Traced 01_run_hello.py' }).count(), 0);
    assert.doesNotMatch(await page.locator('.part.sidebar .composite.title').innerText(), /Async Trace/i);
  });
});
