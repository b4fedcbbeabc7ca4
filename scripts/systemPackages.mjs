// The one list of Debian/Ubuntu packages the project needs, by purpose, and the one place that
// installs what is missing. Used by `npm start`, `npm test` and `.ci/run`:
//
//   node scripts/systemPackages.mjs start     what `npm start` needs (build code-server, run Python)
//   node scripts/systemPackages.mjs test      what `npm test` needs (adds the browser, frameworks)
//   node scripts/systemPackages.mjs minimal-root   what CI's quick start in a minimal root needs
//   node scripts/systemPackages.mjs --print test   print the list, install nothing
//
// Installs as root directly, else with `sudo -n` when that works without a password, else prints
// the exact command to run and exits 2. On a system without dpkg it checks nothing.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Why each package is here; a purpose includes the packages of the purposes it extends. */
export const PACKAGES = {
  start: [
    // Python 3.9+ runs the traced programs; gevent/greenlet the greenlet examples.
    'python3', 'python3-gevent', 'python3-greenlet',
    // code-server's native modules build against these.
    'build-essential', 'pkg-config', 'libkrb5-dev', 'libx11-dev', 'libxkbfile-dev', 'libsecret-1-dev',
    'git', 'ca-certificates',
  ],
  test: [
    // The real-VS-Code tests drive Debian's Chromium; fonts make screenshots legible.
    'chromium', 'fonts-dejavu-core', 'fonts-liberation',
    // greenlet's own test suite (run traced vs untraced) needs these.
    'python3-objgraph', 'python3-psutil',
    // Real framework programs the runtime tests trace.
    'python3-fastapi', 'python3-uvicorn', 'python3-starlette', 'python3-httpx', 'python3-aiohttp',
    'python3-anyio', 'python3-uvloop', 'python3-redis', 'redis-server', 'python3-pytest',
    'python3-pytest-asyncio', 'python3-websockets', 'python3-trio', 'gunicorn',
  ],
  // CI's strongest quick start builds a minimal Debian root to run it in (test/quickstart.mjs).
  'minimal-root': ['debootstrap'],
};

export function packagesFor(purpose) {
  if (purpose === 'start') return [...PACKAGES.start];
  if (purpose === 'test') return [...PACKAGES.start, ...PACKAGES.test];
  if (purpose === 'minimal-root') return [...PACKAGES['minimal-root']];
  throw new Error(`unknown purpose: ${purpose} (start, test or minimal-root)`);
}

/** Packages of the list not installed, or null when this system has no dpkg. */
export function missingPackages(names) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...names], { encoding: 'utf8' });
  if (r.error) return null;
  const ok = new Set(
    r.stdout.split('\n').filter((l) => l.endsWith('install ok installed')).map((l) => l.split(' ')[0]),
  );
  return names.filter((n) => !ok.has(n));
}

function canSudo() {
  const r = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

/**
 * Makes sure the packages of `purpose` are installed. Returns normally when they are (or were just
 * installed); throws an error with `exitCode` 2 and the exact command when it cannot install them.
 */
export function ensureSystemPackages(purpose, { log = (m) => console.log(`[setup] ${m}`) } = {}) {
  const names = packagesFor(purpose);
  const missing = missingPackages(names);
  if (missing === null) {
    log('no dpkg on this system: not checking system packages (see README for what is needed)');
    return;
  }
  if (missing.length === 0) return;
  const install = ['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...missing];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = root ? [] : canSudo() ? ['sudo', '-n'] : null;
  if (!prefix) {
    const err = new Error(
      `missing system packages: ${missing.join(' ')}\n` +
        `Install them, then run this again:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
    err.exitCode = 2;
    throw err;
  }
  log(`installing ${missing.length} system package(s)${root ? '' : ' with sudo'}: ${missing.join(' ')}`);
  const t0 = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const runApt = (args) => {
    const argv = [...prefix, ...args];
    return spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env });
  };
  const u = runApt(['apt-get', 'update', '-q']);
  if (u.status !== 0) log('apt-get update failed; trying the install with the package lists at hand');
  const i = runApt(install);
  if (i.status !== 0) {
    const err = new Error(
      `installing system packages failed (exit ${i.status ?? i.signal}). Run:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
    );
    err.exitCode = 2;
    throw err;
  }
  log(`system packages installed in ${Math.round((Date.now() - t0) / 1000)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const purpose = args.find((a) => !a.startsWith('--')) ?? 'test';
  try {
    if (args.includes('--print')) {
      console.log(packagesFor(purpose).join(' '));
    } else {
      ensureSystemPackages(purpose);
      console.log(`[setup] system packages for "${purpose}": all present`);
    }
  } catch (e) {
    console.error(`[setup] ${e.message}`);
    process.exit(e.exitCode ?? 1);
  }
}
