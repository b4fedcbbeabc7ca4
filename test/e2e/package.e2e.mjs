// `npm run package` makes a .vsix that installs into a real VS Code and works there: the
// extension activates and traces a program with the Python runtime shipped inside the package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, launch } from './harness.mjs';

let tmp;
let vsix;
let h;

before(() => {
  // Package a copy: the production build must not overwrite the shared dev build in dist/.
  tmp = mkdtempSync(path.join(os.tmpdir(), 'asynctrace-package-'));
  const src = path.join(tmp, 'src');
  for (const f of readdirSync(ROOT)) {
    if (['node_modules', '.git', '.e2e', 'test'].includes(f) || f.endsWith('.vsix')) continue;
    // dist/ with a development build (source maps) is copied on purpose: packaging must start clean.
    cpSync(path.join(ROOT, f), path.join(src, f), { recursive: true, filter: (s) => !s.includes('__pycache__') });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
  const r = spawnSync('npm', ['run', 'package'], { cwd: src, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`);
  const name = readdirSync(src).find((f) => f.endsWith('.vsix'));
  assert.ok(name, `no .vsix produced:\n${r.stdout}`);
  vsix = path.join(src, name);
});

after(async () => {
  await h?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The package's files (`extension/...` entries of the zip), sorted, read with the zip's own directory. */
function vsixFiles(file) {
  const r = spawnSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((f) => f.startsWith('extension/')).map((f) => f.slice('extension/'.length));
}

// What the package holds, exactly: the bundle, codicons, media, translations, the Python runtime,
// the README with the screenshots it shows, and nothing else (no source maps, sources or tests).
const EXPECTED = [
  /^package\.json$/, /^package\.nls(\.zh-cn)?\.json$/, /^readme\.md$/i, /^changelog\.md$/i, /^LICENSE(\.txt)?$/,
  /^dist\/extension\.js$/, /^dist\/cli\.js$/, /^dist\/webview\/gantt\.js$/, /^dist\/codicons\/codicon\.(css|ttf)$/,
  /^media\/[a-z0-9-]+\.(svg|css|png)$/, /^l10n\/bundle\.l10n\.zh-cn\.json$/,
  /^src\/runtime\/asynctrace\/([a-z0-9_]+\/)?[a-z0-9_]+\.py$/,
  /^docs\/screenshots\/[a-z0-9-]+\.png$/,
];

test('the .vsix holds exactly the expected files, with every README image, and is small', async () => {
  const size = statSync(vsix).size;
  console.log(`# ${path.basename(vsix)}: ${(size / 1e6).toFixed(2)} MB`);
  assert.ok(size < 3_000_000, `vsix is ${size} bytes`);
  const files = vsixFiles(vsix);
  const unexpected = files.filter((f) => !EXPECTED.some((re) => re.test(f)));
  assert.deepEqual(unexpected, [], 'files no rule expects');
  for (const re of EXPECTED.slice(0, 11)) assert.ok(files.some((f) => re.test(f)), `${re} in the package`);
  assert.ok(files.includes('media/icon.png'), 'the extension icon');
  // The README's images are read from the package by the Extensions view: all must be there.
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const images = [...new Set([...readme.matchAll(/\]\((docs\/screenshots\/[^)\s]+\.png)\)/g)].map((m) => m[1]))];
  assert.ok(images.length > 0);
  for (const img of images) assert.ok(files.includes(img), `${img} (shown by the README) in the package`);
  // And only those: screenshots the README does not show stay out.
  assert.deepEqual(files.filter((f) => f.startsWith('docs/')).sort(), images.sort());
  // Fresh production build: no source maps, no development bundle.
  assert.ok(!files.some((f) => f.endsWith('.map')), 'no source maps');
  // The very file produced is what gets installed (below).
  h = await launch({ workspace: 'examples', vsix });
  const ext = h.extensionDir;
  for (const f of ['package.json', 'dist/extension.js', 'media/icon.png', 'src/runtime/asynctrace/__main__.py']) {
    assert.ok(existsSync(path.join(ext, f)), `${f} installed`);
  }
});

test('the installed package activates and traces a program', async () => {
  assert.equal((await h.state()).workspaceTrusted, true);
  await h.openFile('04_gather.py');
  await h.palette('Async Trace: Trace Async Run');
  const run = await h.waitFor(async () => {
    const r = (await h.state()).runs.find((x) => x.label === '04_gather.py');
    return r && !r.live && r;
  }, 60000, 'the traced run of 04_gather.py to end');
  assert.equal(run.exit?.code, 0);
  assert.ok(run.tasks.length >= 2, `tasks: ${JSON.stringify(run.tasks)}`);
});
