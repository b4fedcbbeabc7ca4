// The README's quick start, as a newcomer runs it: a fresh clone in a fresh directory, a clean
// environment (a new HOME, no npm or project variables), `npm install`, then `npm start` until the
// served VS Code answers. Run by `.ci/run` after `npm test`; it downloads what a user downloads
// (npm packages, Debian packages, code-server: several minutes).
//
//   node test/quickstart.mjs [--keep]
//   node test/quickstart.mjs --minimal-root [--tests] [--keep]
//
// --minimal-root is the strongest form: a minimal Debian 12 root (debootstrap's minbase variant)
// holding nothing but Node and npm (this machine's own, copied in) and the clone; the two
// commands run in it as root, so everything else (Python, compilers, code-server) must come from
// the project's own setup. `--tests` then also runs `npm test` there (without the real-VS-Code
// stage, which needs a browser the host already exercises). It needs root and chroot; without
// them it says so and runs the clean-clone form instead.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from '../scripts/systemPackages.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const withTests = process.argv.includes('--tests');
const t0 = Date.now();
const log = (m) => console.log(`[quickstart ${Math.round((Date.now() - t0) / 1000)} s] ${m}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'asynctrace-quickstart-'));
// Only the machine's own network settings (proxy, certificate authorities), which a newcomer's
// machine has too; nothing of the project's or npm's state.
const networkEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => /(^|_)(PROXY|CERTS?|CA_BUNDLE|CAINFO|CAFILE)(_|$)|^SSL_CERT/i.test(k) && !/^npm_/i.test(k),
  ),
);

let cleanup = () => {};
function fail(msg) {
  console.error(`[quickstart] FAILED: ${msg} (work dir kept: ${dir})`);
  cleanup();
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

/** Why a minimal root cannot be built here, or null when it can. */
function minimalRootUnavailable() {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('chroot', ['/', 'true'], { stdio: 'ignore' }).status !== 0) return 'chroot is not permitted';
  return null;
}

/** The Debian mirror the machine's apt uses (a local mirror or proxy keeps working), else Debian's. */
function debianMirror() {
  for (const f of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    let text;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    const uri = text.match(/^URIs:\s*(\S+\/debian)\/?\s*$/m) ?? text.match(/^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+\S+/m);
    if (uri) return uri[1];
  }
  return 'http://deb.debian.org/debian';
}

function mountedUnder(root) {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && (m === root || m.startsWith(root + '/')));
}

/**
 * Builds the minimal root and returns how to run a shell command in it as a newcomer would: as
 * root, in the clone, with a clean environment.
 */
function prepareMinimalRoot() {
  ensureSystemPackages('minimal-root', { log: (m) => log(m) });
  const root = path.join(dir, 'root');
  const mirror = debianMirror();
  log(`debootstrap --variant=minbase bookworm from ${mirror}`);
  let r = spawnSync('debootstrap', ['--variant=minbase', 'bookworm', root, mirror], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) fail(`debootstrap exited ${r.status ?? r.signal}`);

  // Node 20 and its npm, as a user installs them (the node binary and npm's own directory).
  const npmDir = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  if (!existsSync(path.join(npmDir, 'bin', 'npm-cli.js'))) fail(`npm not found beside ${process.execPath}`);
  mkdirSync(path.join(root, 'usr/local/lib/node_modules'), { recursive: true });
  copyFileSync(process.execPath, path.join(root, 'usr/local/bin/node'));
  cpSync(npmDir, path.join(root, 'usr/local/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(root, 'usr/local/bin/npx'));

  // The machine's network settings: name servers and the certificate authorities it trusts (the
  // files its environment names, and local authorities so the root's ca-certificates keeps them).
  copyFileSync('/etc/resolv.conf', path.join(root, 'etc/resolv.conf'));
  // debootstrap writes no hosts file; Debian's installer writes this one.
  writeFileSync(path.join(root, 'etc/hosts'), `127.0.0.1\tlocalhost\n127.0.1.1\t${os.hostname()}\n::1\tlocalhost ip6-localhost ip6-loopback\n`);
  for (const v of Object.values(networkEnv)) {
    if (path.isAbsolute(v) && existsSync(v) && !existsSync(path.join(root, v))) {
      mkdirSync(path.dirname(path.join(root, v)), { recursive: true });
      cpSync(v, path.join(root, v), { recursive: true, dereference: true });
    }
  }
  const localCas = '/usr/local/share/ca-certificates';
  if (existsSync(localCas)) cpSync(localCas, path.join(root, localCas), { recursive: true, dereference: true });

  const clone = path.join(root, 'root', 'async-trace');
  log(`cloning into the root's /root/async-trace`);
  r = spawnSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'inherit' });
  if (r.status !== 0) fail('git clone');

  r = spawnSync('mount', ['-t', 'proc', 'proc', path.join(root, 'proc')], { stdio: 'inherit' });
  if (r.status !== 0) fail('mounting /proc in the root');
  cleanup = () => {
    for (const m of mountedUnder(root).reverse()) spawnSync('umount', ['-l', m], { stdio: 'inherit' });
    cleanup = () => {};
  };
  const node = spawnSync(path.join(root, 'usr/local/bin/node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  log(`minimal root ready: Debian 12 minbase, Node ${node}, nothing else`);

  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    ...networkEnv,
  };
  return {
    label: 'in the minimal root',
    spawnShell: (script, opts = {}) =>
      spawn('chroot', [root, '/bin/sh', '-c', `cd /root/async-trace && ${script}`], { env, stdio: 'inherit', ...opts }),
    remove: () => {
      cleanup();
      if (mountedUnder(root).length) {
        log(`still mounted under ${root}: not removing it`);
        return;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh clone in a fresh directory with a new HOME. */
function prepareCleanClone() {
  const home = path.join(dir, 'home');
  mkdirSync(home);
  const env = { PATH: process.env.PATH, HOME: home, LANG: process.env.LANG ?? 'C.UTF-8', TMPDIR: process.env.TMPDIR ?? os.tmpdir(), ...networkEnv };
  const clone = path.join(dir, 'async-trace');
  log(`cloning into ${clone}`);
  const r = spawnSync('git', ['clone', '--quiet', ROOT, clone], { stdio: 'inherit', env });
  if (r.status !== 0) fail('git clone');
  return {
    label: 'in a clean clone',
    spawnShell: (script, opts = {}) => spawn('/bin/sh', ['-c', script], { cwd: clone, env, stdio: 'inherit', ...opts }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const exitOf = (child) => new Promise((res) => child.on('exit', (code, signal) => res(code ?? signal)));

let where;
if (process.argv.includes('--minimal-root')) {
  const why = minimalRootUnavailable();
  if (why) log(`a minimal root cannot be built here (${why}): running the quick start in a clean clone instead`);
  where = why ? prepareCleanClone() : prepareMinimalRoot();
} else {
  where = prepareCleanClone();
}

log(`npm install (${where.label})`);
let code = await exitOf(where.spawnShell('npm install --no-audit --no-fund'));
if (code !== 0) fail(`npm install exited ${code}`);

const port = await freePort();
log(`npm start -- --port ${port}`);
const child = where.spawnShell(`exec npm start -- --port ${port}`, { detached: true });
let exited = null;
child.on('exit', (c, signal) => (exited = c ?? signal));
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
};
process.on('SIGINT', () => (stop(), cleanup(), process.exit(130)));

// First start installs the system packages and code-server: allow for a slow network.
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
log(`the served VS Code answered on http://127.0.0.1:${port}/ (${where.label}): the quick start works`);

if (withTests) {
  log(`npm test -- --skip e2e (${where.label})`);
  code = await exitOf(where.spawnShell('CI=1 npm test -- --skip e2e'));
  if (code !== 0) fail(`npm test exited ${code}`);
  log(`npm test passed (${where.label})`);
}
if (keep) {
  cleanup();
} else {
  where.remove();
}
process.exit(0);
