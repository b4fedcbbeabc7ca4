// `npm run test:e2e`: installs code-server if needed, builds the extension, then runs every
// test/e2e/*.e2e.mjs (or the files/name filters given) one file at a time in a real VS Code.
//
//   npm run test:e2e                       all e2e tests
//   npm run test:e2e -- timeline           only files whose name contains "timeline"
//   npm run test:e2e -- --no-build         skip `npm run build` (dist/ already fresh)
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ROOT, ensureSetup } from './setup.mjs';

const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const filters = args.filter((a) => !a.startsWith('--'));

try {
  ensureSetup();
} catch (e) {
  console.error(`[e2e] ${e.message}`);
  process.exit(e.exitCode ?? 1);
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
if (!noBuild) {
  const b = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

const dir = path.join(ROOT, 'test', 'e2e');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.e2e.mjs'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`[e2e] no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// One VS Code at a time (the machine may have 2 cores): --test-concurrency=1, and each file's
// tests share one launch. Timeouts are generous because a cold code-server start takes ~10-30 s.
const t0 = Date.now();
const r = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--test-timeout=300000', '--test-reporter=spec', ...files.map((f) => path.join(dir, f))],
  { cwd: ROOT, stdio: 'inherit' },
);
console.log(`[e2e] ${files.length} file(s) in ${Math.round((Date.now() - t0) / 1000)} s`);
process.exit(r.status ?? 1);
