// Reading the Async Trace "Tasks" tree and notifications from the workbench DOM, the way a user
// sees them (shared by the tree and trace-file end-to-end tests).
import os from 'node:os';
import path from 'node:path';

/** Shows the Async Trace view container and waits for its Tasks view. */
export async function openTasksView(h) {
  const { page } = h;
  const icon = page.locator('.activitybar .action-item a[aria-label^="Async Trace"]').first();
  await icon.waitFor({ state: 'visible', timeout: 30000 });
  const title = page.locator('.part.sidebar > .composite.title', { hasText: 'Async Trace' });
  if (!(await title.isVisible().catch(() => false))) await icon.click();
  await title.waitFor({ state: 'visible', timeout: 20000 });
  await widenSidebar(page, 600);
}

/** The rendered rows of the Tasks tree: label, description, depth, expansion, status icon. */
export async function treeRows(page) {
  return page.locator('.part.sidebar .pane-body .monaco-list-row').evaluateAll((els) => els.map((el) => {
    const icon = [...(el.querySelector('.custom-view-tree-node-item-icon')?.classList ?? [])]
      .find((c) => c.startsWith('codicon-') && c !== 'codicon-modifier-spin');
    return {
      label: el.querySelector('.label-name')?.textContent?.trim() ?? '',
      description: el.querySelector('.label-description')?.textContent?.trim() ?? '',
      level: Number(el.getAttribute('aria-level')),
      expanded: el.getAttribute('aria-expanded'),
      selected: el.classList.contains('selected'),
      icon: icon?.slice('codicon-'.length),
      spinning: !!el.querySelector('.custom-view-tree-node-item-icon.codicon-modifier-spin'),
    };
  }));
}

/** Polls the tree until `pred(rows)` holds; returns the rows. */
export async function waitForRows(h, pred, what, timeoutMs = 20000) {
  return onFailureShot(h, what, () => h.waitFor(async () => {
    const rows = await treeRows(h.page);
    return pred(rows) && rows;
  }, timeoutMs, what));
}

/** Runs `fn`; when it throws, saves a screenshot to the temp dir (named in the error) first. */
export async function onFailureShot(h, what, fn) {
  try {
    return await fn();
  } catch (err) {
    const file = path.join(os.tmpdir(), `asynctrace-e2e-failure-${String(what).replace(/[^\w]+/g, '-').slice(0, 60)}.png`);
    await h.page.screenshot({ path: file }).catch(() => {});
    err.message += ` (screenshot: ${file})`;
    throw err;
  }
}

export function rowByLabel(rows, label) {
  const r = rows.find((x) => x.label === label);
  if (!r) throw new Error(`no tree row "${label}" in: ${rows.map((x) => x.label).join(', ')}`);
  return r;
}

/** Waits for a notification toast matching `re` and returns its text. */
export async function notificationText(h, re, timeoutMs = 15000) {
  const toasts = h.page.locator('.notifications-toasts .notification-toast .notification-list-item-message');
  const what = `a notification matching ${re}`;
  return onFailureShot(h, what, () => h.waitFor(async () => {
    for (const t of await toasts.allInnerTexts()) if (re.test(t)) return t;
    return undefined;
  }, timeoutMs, what));
}

export async function dismissNotifications(h) {
  // Clear toasts (and the notification center) so the next assertion only sees new ones.
  await h.command('notifications.clearAll');
  await h.waitFor(async () => (await h.page.locator('.notifications-toasts .notification-toast').count()) === 0, 5000, 'toasts to clear');
}

/** The message line above the tree (the active filter). */
export async function treeMessage(page) {
  const m = page.locator('.part.sidebar .pane-body .tree-explorer-viewlet-tree-view > .message');
  return (await m.getAttribute('class'))?.includes('hide') ? '' : (await m.innerText()).trim();
}

/** Drags the sidebar's edge so rows (and screenshots) show whole descriptions. */
export async function widenSidebar(page, width) {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box || box.width >= width) return;
  const edge = box.x + box.width;
  const sashes = await page.locator('.monaco-sash.vertical:not(.disabled)').evaluateAll((els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }));
  const sash = sashes.find((s) => Math.abs(s.x - edge) < 6);
  if (!sash) return;
  await page.mouse.move(sash.x, sash.y);
  await page.mouse.down();
  await page.mouse.move(sash.x + (width - box.width), sash.y, { steps: 5 });
  await page.mouse.up();
}

/** Waits until the message line above the tree matches `re`. */
export async function waitForMessage(h, re, timeoutMs = 10000) {
  const what = `the tree message to match ${re}`;
  return onFailureShot(h, what, () => h.waitFor(async () => re.test(await treeMessage(h.page)), timeoutMs, what));
}

/** Waits for the QuickPick titled `title` (the palette's input is reused: typing too early goes to it). */
export async function waitForQuickPick(h, title) {
  await h.page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 10000 });
  return h.page.locator('.quick-input-widget .quick-input-box input');
}
