// Draws the extension's marketplace icon (media/icon.png, 128x128) from the activity-bar glyph
// (media/asynctrace.svg): timeline bars on a dark rounded tile. Rendered by headless Chromium so
// the PNG is exactly the SVG; run again after changing the glyph:  node scripts/makeIcon.mjs
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { findChromium } from '../test/e2e/setup.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const glyph = readFileSync(path.join(ROOT, 'media', 'asynctrace.svg'), 'utf8')
  .replace('width="24" height="24"', 'width="92" height="92"')
  .replace('stroke="currentColor"', 'stroke="#4EC9B0"')
  .replace('fill="currentColor"', 'fill="#DCDCAA"');
const html = `<!doctype html><html><body style="margin:0;background:transparent">
<div style="width:128px;height:128px;border-radius:24px;background:#1E2A38;display:flex;align-items:center;justify-content:center">${glyph}</div>
</body></html>`;
const browser = await chromium.launch({
  executablePath: findChromium(),
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 128, height: 128 } });
  await page.setContent(html);
  await page.screenshot({ path: path.join(ROOT, 'media', 'icon.png'), omitBackground: true });
} finally {
  await browser.close();
}
console.log('media/icon.png written');
