// The README's quick start, as a newcomer runs it: a fresh clone in a fresh directory, a clean
// environment (a new HOME, no npm or project variables), `npm install`, then `npm start` until the
// served VS Code answers. Run by `.ci/run` after `npm test`; it downloads what a user downloads
// (npm packages, code-server: several minutes).
//
//   node test/quickstart.mjs [--keep]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const t0 = Date.now();
const log = (m) => console.log(`[quickstart ${Math.round((Date.now() - t0) / 1000)} s] ${m}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'asynctrace-quickstart-'));
const home = path.join(dir, 'home');
mkdirSync(home);
// Nothing of the project's or npm's state; only the machine's own network settings (proxy,
// certificate authorities), which a newcomer's machine has too.
const env = {
  PATH: process.env.PATH,
  HOME: home,
  LANG: process.env.LANG ?? 'C.UTF-8',
  TMPDIR: process.env.TMPDIR ?? os.tmpdir(),
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /(^|_)(PROXY|CERTS?|CA_BUNDLE|CAINFO|CAFILE)(_|$)|^SSL_CERT/i.test(k) && !/^npm_/i.test(k))),
};
const clone = path.join(dir, 'async-trace');

function fail(msg) {
  console.error(`[quickstart] FAILED: ${msg} (work dir kept: ${dir})`);
  process.exit(1);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

log(`cloning into ${clone}`);
let r = spawnSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'inherit', env });
if (r.status !== 0) fail('git clone');

log('npm install');
r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: clone, stdio: 'inherit', env });
if (r.status !== 0) fail(`npm install exited ${r.status}`);

const port = await freePort();
log(`npm start -- --port ${port}`);
const child = spawn('npm', ['start', '--', '--port', String(port)], { cwd: clone, env, stdio: 'inherit', detached: true });
let exited = null;
child.on('exit', (code, signal) => (exited = code ?? signal));
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
};
process.on('SIGINT', () => (stop(), process.exit(130)));

// First start installs code-server: allow for a slow network.
const deadline = Date.now() + 30 * 60_000;
let answered = false;
while (Date.now() < deadline && exited === null) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    if (res.ok && /code-server|vscode|workbench/i.test(body)) {
      answered = true;
      break;
    }
  } catch {
    /* not yet */
  }
  await new Promise((res) => setTimeout(res, 2000));
}
stop();
await new Promise((res) => setTimeout(res, 1500));
if (!answered) fail(exited !== null ? `npm start exited (${exited}) before VS Code answered` : 'VS Code never answered');
log(`the served VS Code answered on http://127.0.0.1:${port}/: the quick start works`);
if (!keep) rmSync(dir, { recursive: true, force: true });
process.exit(0);
