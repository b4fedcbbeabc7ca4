// `npm run package` makes a .vsix that installs into a real VS Code and works there: the
// extension activates and traces a program with the Python runtime shipped inside the package.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
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
    if (['node_modules', 'dist', '.git', '.e2e', 'test', 'docs'].includes(f) || f.endsWith('.vsix')) continue;
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

test('the .vsix is small and holds the bundle and the Python runtime, not sources or tests', async () => {
  const size = statSync(vsix).size;
  assert.ok(size < 2_000_000, `vsix is ${size} bytes`);
  h = await launch({ workspace: 'examples', vsix });
  const ext = h.extensionDir;
  for (const f of ['package.json', 'package.nls.json', 'dist/extension.js', 'dist/webview/gantt.js', 'dist/codicons/codicon.css', 'media/asynctrace.svg', 'src/runtime/asynctrace/__main__.py']) {
    assert.ok(existsSync(path.join(ext, f)), `${f} in the package`);
  }
  for (const f of ['dist/extension.js.map', 'src/extension', 'src/core', 'test', 'node_modules', 'tsconfig.json']) {
    assert.ok(!existsSync(path.join(ext, f)), `${f} must not be in the package`);
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
