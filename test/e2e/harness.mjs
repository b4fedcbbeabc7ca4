// Real-VS-Code end-to-end harness: runs the built extension in code-server (a real VS Code whose
// workbench is served to a browser) and drives it with headless Chromium via playwright-core.
//
// API (stable; the e2e tests of every feature use exactly this):
//
//   import { launch } from './harness.mjs';
//   const h = await launch({ workspace, settings, pythonPath, trusted, vsix });
//     workspace  folder to open, absolute or relative to the repository root (default 'examples').
//                It is copied into a fresh temp dir first, so tests may write to it freely.
//     settings   extra user settings, merged over the defaults below (asyncTrace.pythonPath is
//                written there too, a Python >= 3.9 found at run time: pyenv 3.12 if present, else
//                python3). Caution: code-server's extension host is a remote one and ignores
//                machine-overridable settings (asyncTrace.pythonPath) of the User settings, so runs
//                use python3 from PATH unless pythonPath is given.
//     pythonPath the interpreter traced runs must use (a test that needs trio or gevent finds one
//                with pythonWith() of pythons.mjs): written to the workspace folder's
//                .vscode/settings.json as `asyncTrace.pythonPath`, as a user sets it, before VS Code
//                starts; launch() returns once the extension reads it. Needs trusted (Restricted
//                Mode ignores the setting). h.python is then this interpreter.
//     trusted    true (default): workspace trust is off, the folder is trusted as after a user
//                clicks "Trust". false: trust is on and the folder stays in Restricted Mode.
//     vsix       optional path of a packaged .vsix to install (as a user would) instead of
//                copying the freshly built dist/.
//     env        extra environment variables for code-server and its extension host.
//   Returns h = {
//     page, browser, port, url, workspaceDir, userDataDir, extensionDir, python, logFile
//                                 (code-server's output, kept with ASYNC_TRACE_E2E_KEEP=1),
//     hooks(route, init?)      -> Promise<object>  any route of the test hooks (e.g. '/suite').
//     state()                  -> Promise<object>  GET /state of the in-extension test hooks:
//                                 { runs: [{key, label, live, exit, counts, tasks: [{id, name,
//                                 coro, status, parent, ...}]}], selectedRun, activeEditor:
//                                 {file, line, column} (1-based), diagnostics: [{file, line,
//                                 severity, message, source}], ...sections other features add
//                                 with contributeTestState(name, fn) }
//     command(id, ...args)     -> Promise<any>  runs vscode.commands.executeCommand in the
//                                 extension host; args are JSON, with {$uri: path|uri},
//                                 {$position: [l, c]}, {$range: [l1, c1, l2, c2]} (0-based)
//                                 revived; the result comes back as JSON (Uris as {$uri}).
//     palette(title)           -> Promise<void>  F1, types the title, runs the entry whose label
//                                 is the title (e.g. 'Async Trace: Clear All Runs').
//     openFile(relPath, line?) -> Promise<void>  opens a workspace file (line is 1-based) and
//                                 waits until it is the active editor.
//     traceRun(relPath, timeoutMs = 60000) -> Promise<run>  opens the program, runs "Async Trace:
//                                 Trace Async Run" from the palette and waits until its run (the
//                                 state's run labelled with the file's name) has ended; returns it.
//     screenshot(name)         -> Promise<string>  writes test-results/screenshots/<name>.png (docs/screenshots/ with UPDATE_SCREENSHOTS=1), returns path.
//     webviewFrame(titleOrPredicate, timeoutMs?) -> Promise<Frame>  the content frame of a webview:
//                                 a string matches its document <title> or its editor tab label;
//                                 a predicate gets (frame) and may be async.
//     waitFor(fn, timeoutMs = 15000, what?) -> Promise<truthy value of fn()>  polls fn (may be
//                                 async; exceptions count as "not yet") every 100 ms.
//     close()                  -> Promise<void>  closes the browser, kills code-server's process
//                                 group and any traced program still running, removes the temp
//                                 dir. Always call it (try/finally); Ctrl+C/SIGTERM also cleans up.
//   }
//
// Set ASYNC_TRACE_E2E_KEEP=1 to keep the temp dir (code-server log, user data) for debugging,
// ASYNC_TRACE_E2E_HEADED=1 to watch the browser (needs a display).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT, ensureSetup, node24Env } from './setup.mjs';

/**
 * Where a test's screenshot goes. The README's pictures change only when asked
 * (UPDATE_SCREENSHOTS=1): a plain test run leaves the tree clean.
 */
export function screenshotPath(name) {
  const dir = process.env.UPDATE_SCREENSHOTS
    ? path.join(ROOT, 'docs', 'screenshots')
    : path.join(ROOT, 'test-results', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}

export { ROOT };

const BROWSER_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A quiet, deterministic profile: no start page, tips, update checks, telemetry or AI panels. */
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'editor.accessibilitySupport': 'off',
  'security.workspace.trust.startupPrompt': 'never',
};

/** Files of the extension as packaged (mirrors .vscodeignore). */
const EXTENSION_FILES = ['package.json', 'package.nls.json', 'dist', 'media', 'l10n', 'README.md', 'LICENSE', 'CHANGELOG.md'];

export function extensionFolderName() {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  return `${pkg.publisher}.${pkg.name}-${pkg.version}`;
}

/** Copies the built extension (dist/ must exist: run `npm run build`) into `extensionsDir`. */
export function installExtension(extensionsDir) {
  if (!existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  }
  const dest = path.join(extensionsDir, extensionFolderName());
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const files = [
    ...EXTENSION_FILES,
    ...readdirSync(ROOT).filter((f) => /^package\.nls\..+\.json$/.test(f)),
  ];
  for (const f of files) {
    const src = path.join(ROOT, f);
    if (existsSync(src)) cpSync(src, path.join(dest, f), { recursive: true, filter: (s) => !s.endsWith('.map') });
  }
  const runtime = path.join(ROOT, 'src', 'runtime');
  if (existsSync(runtime)) {
    cpSync(runtime, path.join(dest, 'src', 'runtime'), {
      recursive: true,
      filter: (s) => !s.includes('__pycache__') && !s.endsWith('.pyc'),
    });
  }
  return dest;
}

/** Installs a packaged .vsix into `extensionsDir` the way users do (`--install-extension`). */
export function installVsix(vsix, extensionsDir, userDataDir) {
  const setup = ensureSetup({ quiet: true, browser: false });
  mkdirSync(userDataDir, { recursive: true });
  const configFile = path.join(userDataDir, 'code-server.yaml');
  writeFileSync(configFile, 'auth: none\n');
  const r = spawnSync(
    setup.node,
    [setup.codeServer, '--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, '--install-extension', vsix, '--force'],
    {
      encoding: 'utf8',
      env: { ...node24Env(), XDG_DATA_HOME: path.join(userDataDir, 'xdg-data'), XDG_CONFIG_HOME: path.join(userDataDir, 'xdg-config') },
    },
  );
  if (r.status !== 0) throw new Error(`installing ${vsix} failed:\n${r.stdout}\n${r.stderr}`);
  const dest = path.join(extensionsDir, extensionFolderName());
  if (!existsSync(path.join(dest, 'package.json'))) throw new Error(`${vsix} installed, but ${dest} is missing:\n${r.stdout}`);
  return dest;
}

function pythonVersion(exe) {
  const r = spawnSync(exe, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  const [maj, min] = r.stdout.trim().split('.').map(Number);
  return { maj, min };
}

/** A Python >= 3.9 for traced runs: pyenv's 3.12 when installed, else python3 from PATH. */
export function findPython() {
  if (process.env.ASYNC_TRACE_E2E_PYTHON) return process.env.ASYNC_TRACE_E2E_PYTHON;
  const roots = [];
  const pr = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (pr.status === 0 && pr.stdout.trim()) roots.push(pr.stdout.trim());
  if (process.env.PYENV_ROOT) roots.push(process.env.PYENV_ROOT);
  roots.push(path.join(os.homedir(), '.pyenv'));
  for (const root of roots) {
    const versions = path.join(root, 'versions');
    if (!existsSync(versions)) continue;
    const v312 = readdirSync(versions).filter((v) => /^3\.12(\.\d+)?$/.test(v)).sort().reverse();
    for (const v of v312) {
      const exe = path.join(versions, v, 'bin', 'python3');
      if (existsSync(exe) && pythonVersion(exe)) return exe;
    }
  }
  for (const name of ['python3', 'python']) {
    const w = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    const exe = w.stdout.trim();
    const v = exe && pythonVersion(exe);
    if (v && (v.maj > 3 || (v.maj === 3 && v.min >= 9))) return exe;
  }
  throw new Error('No Python >= 3.9 found (pyenv 3.12 or python3 on PATH); set ASYNC_TRACE_E2E_PYTHON');
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portAvailable(port, host) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** All descendants of `root` (Linux /proc; empty elsewhere). */
export function descendants(root) {
  const children = new Map();
  let entries = [];
  try { entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d)); } catch { return []; }
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  const out = [];
  const todo = [root];
  while (todo.length) {
    for (const c of children.get(todo.pop()) ?? []) { out.push(c); todo.push(c); }
  }
  return out;
}

export async function waitFor(fn, timeoutMs = 15000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await sleep(100);
  }
}

/**
 * Starts code-server serving `folder` with the built extension installed. Used by launch() and by
 * `npm start`. Returns { child, port, url, logFile, stop() }; the child leads its own process group.
 */
export async function startCodeServer({ folder, userDataDir, extensionsDir, port, host = '127.0.0.1', env = {}, logFile, stdio }) {
  // Serving needs no browser (`npm start`: the user opens the URL in theirs).
  const setup = ensureSetup({ browser: false });
  if (port === undefined) port = await freePort();
  else if (!(await portAvailable(port, host))) {
    // Checked up front: a server already there would answer the health check in our place.
    throw new Error(`port ${port} on ${host} is already in use`);
  }
  const configFile = path.join(userDataDir, 'code-server.yaml');
  mkdirSync(userDataDir, { recursive: true });
  // Our own config file: otherwise code-server writes one with a password to ~/.config.
  writeFileSync(configFile, 'auth: none\n');
  const args = [
    setup.codeServer,
    '--config', configFile,
    '--auth', 'none',
    '--bind-addr', `${host}:${port}`,
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    folder,
  ];
  const out = stdio ?? (logFile ? ['ignore', 'pipe', 'pipe'] : 'inherit');
  const child = spawn(setup.node, args, {
    detached: true, // own process group: close() kills the server and everything it started
    stdio: out,
    env: {
      ...node24Env(),
      // Keep code-server's logs and state inside the throwaway profile, not in the user's home.
      XDG_DATA_HOME: path.join(userDataDir, 'xdg-data'),
      XDG_CONFIG_HOME: path.join(userDataDir, 'xdg-config'),
      ...env,
    },
  });
  if (logFile) {
    const { createWriteStream } = await import('node:fs');
    const log = createWriteStream(logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  let exited = false;
  child.on('exit', () => { exited = true; });
  const stop = async () => {
    if (child.pid === undefined) return;
    // Traced programs lead their own process groups (so Stop reaches their children): note every
    // descendant now, before they are re-parented, and kill the stragglers after the server.
    const tree = descendants(child.pid);
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
      await gone;
      clearTimeout(t);
    }
    // Leftovers (extension host, pty host) share the group: make sure none survive.
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* all gone */ }
    for (const pid of tree) {
      try { process.kill(-pid, 'SIGKILL'); } catch { /* not a group leader, or gone */ }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  };
  const url = `http://${host}:${port}/?folder=${encodeURIComponent(folder)}`;
  try {
    await waitFor(async () => {
      if (exited) throw new Error('code-server exited during startup');
      const r = await fetch(`http://${host}:${port}/healthz`);
      return r.ok;
    }, 60000, 'code-server to listen');
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, port, url, logFile, stop };
}

async function httpJsonRaw(url, init) {
  const r = await fetch(url, init);
  const body = await r.json();
  if (!r.ok) throw new Error(`${init?.method ?? 'GET'} ${url} -> ${r.status}: ${body.error ?? JSON.stringify(body)}`);
  return body;
}

/** Headless Chromium showing the workbench at `url`; resolves once the workbench is rendered. */
export async function openBrowser(url) {
  const browser = await chromium.launch({
    executablePath: ensureSetup({ quiet: true }).chromium,
    headless: !process.env.ASYNC_TRACE_E2E_HEADED,
    args: BROWSER_ARGS,
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    // The workbench is megabytes of script: on a 2-core machine under a load of 30 (seen), its page
    // took over playwright's default 30 s to load. A slow start is not a failure; a hang still is.
    await page.goto(url, { timeout: 180000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 180000 });
    return { browser, page };
  } catch (err) {
    await browser.close().catch(() => {});
    throw err;
  }
}

const live = new Set();
// If the test process ends without close() (crash, Ctrl+C, the test runner's SIGTERM), don't leave
// code-server running: it leads its own process group, so it would not get the signal itself.
const liveTmp = new Set();
const killLive = () => {
  for (const pid of live) { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }
  live.clear();
  if (!process.env.ASYNC_TRACE_E2E_KEEP) for (const dir of liveTmp) rmSync(dir, { recursive: true, force: true });
  liveTmp.clear();
};
process.once('exit', killLive);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killLive();
    process.kill(process.pid, sig); // then die of the same signal, as without this handler
  });
}

/**
 * Pins the interpreter of traced runs in the folder's own settings (merged into a settings.json the
 * workspace may bring): the setting a user writes, and one code-server's remote extension host reads.
 */
function pinFolderPython(workspaceDir, pythonPath) {
  const dir = path.join(workspaceDir, '.vscode');
  const file = path.join(dir, 'settings.json');
  mkdirSync(dir, { recursive: true });
  const current = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  writeFileSync(file, JSON.stringify({ ...current, 'asyncTrace.pythonPath': pythonPath }, null, 2));
}

export async function launch({ workspace = 'examples', settings = {}, pythonPath, trusted = true, vsix, env = {} } = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'asynctrace-e2e-'));
  liveTmp.add(tmp);
  const src = path.resolve(ROOT, workspace);
  const workspaceDir = path.join(tmp, path.basename(src));
  const userDataDir = path.join(tmp, 'user-data');
  const extensionsDir = path.join(tmp, 'extensions');
  const portFile = path.join(tmp, 'hooks.port');
  const logFile = path.join(tmp, 'code-server.log');
  let server;
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => {});
    if (server) { await server.stop(); live.delete(server.child.pid); }
    if (!process.env.ASYNC_TRACE_E2E_KEEP) rmSync(tmp, { recursive: true, force: true });
    liveTmp.delete(tmp);
  };
  try {
    cpSync(src, workspaceDir, { recursive: true, filter: (s) => !s.includes('__pycache__') });
    if (pythonPath !== undefined && !trusted) throw new Error('launch({ pythonPath }) needs a trusted folder: Restricted Mode ignores asyncTrace.pythonPath');
    const python = pythonPath ?? findPython();
    if (pythonPath !== undefined) pinFolderPython(workspaceDir, pythonPath);
    mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
    writeFileSync(
      path.join(userDataDir, 'User', 'settings.json'),
      JSON.stringify(
        {
          ...DEFAULT_SETTINGS,
          'security.workspace.trust.enabled': !trusted,
          'asyncTrace.pythonPath': python,
          // Tests see the first-run reveal only when they ask for it (firstRun.e2e.mjs).
          'asyncTrace.revealOnFirstRun': false,
          ...settings,
        },
        null,
        2,
      ),
    );
    const extensionDir = vsix ? installVsix(vsix, extensionsDir, userDataDir) : installExtension(extensionsDir);

    server = await startCodeServer({
      folder: workspaceDir,
      userDataDir,
      extensionsDir,
      logFile,
      env: { ...env, ASYNC_TRACE_TEST_HOOKS: portFile },
    });
    live.add(server.child.pid);

    let page;
    ({ browser, page } = await openBrowser(server.url));
    // The hooks file holds `<port>\n<token>`: every request must carry the per-launch token.
    const [hooksPort, hooksToken] = (
      await waitFor(() => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(), 60000, 'the extension to activate (test hooks port file)')
    ).split('\n');
    // An extension host that restarts (installing an extension can do that) writes a new port and
    // token: each request reads the file's current ones.
    let hooks = { port: Number(hooksPort), token: hooksToken };
    const currentHooks = () => {
      try {
        const [p, tok] = readFileSync(portFile, 'utf8').trim().split('\n');
        if (Number(p) > 0 && tok) hooks = { port: Number(p), token: tok };
      } catch {
        /* keep the last */
      }
      return hooks;
    };
    const httpJson = (route, init = {}) => {
      const { port, token } = currentHooks();
      return httpJsonRaw(`http://127.0.0.1:${port}${route}`, { ...init, headers: { ...init.headers, 'x-async-trace-token': token } });
    };

    if (pythonPath !== undefined) {
      await waitFor(async () => (await httpJson('/state')).runner?.settings?.pythonPath === pythonPath,
        30000, `the folder setting asyncTrace.pythonPath (${pythonPath}) to apply`);
    }

    const h = {
      page,
      browser,
      port: server.port,
      url: server.url,
      workspaceDir,
      userDataDir,
      extensionDir,
      python,
      logFile,
      state: () => httpJson('/state'),
      hooks: (route, init) => httpJson(route, init),
      async command(id, ...args) {
        const body = await httpJson('/command', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, args }),
        });
        return body.result;
      },
      async palette(title) {
        // Under load the quick input can miss the first keystrokes or filter late: reopen and
        // retype until the row shows (each try waits 10 s).
        let lastError;
        for (let attempt = 0; attempt < 3; attempt++) {
          try {
            await page.keyboard.press('Escape');
            await page.keyboard.press('F1');
            const input = page.locator('.quick-input-widget .quick-input-box input');
            await input.waitFor({ state: 'visible', timeout: 10000 });
            await input.fill(`>${title}`);
            // Pick the row whose label is exactly the title (fuzzy search may rank others first).
            const row = page
              .locator('.quick-input-widget .monaco-list-row')
              .filter({ has: page.locator('.label-name', { hasText: title }) })
              .first();
            await row.waitFor({ state: 'visible', timeout: 10000 });
            await row.click();
            return;
          } catch (e) {
            lastError = e;
          }
        }
        throw lastError;
      },
      async openFile(relPath, line) {
        const file = path.join(workspaceDir, relPath);
        const options = line ? { selection: { $range: [line - 1, 0, line - 1, 0] }, preview: false } : { preview: false };
        await h.command('vscode.open', { $uri: file }, options);
        await waitFor(async () => {
          const s = await h.state();
          return s.activeEditor?.file === file && (!line || s.activeEditor.line === line);
        }, 15000, `${relPath} to be the active editor`);
      },
      async traceRun(relPath, timeoutMs = 60000) {
        const label = path.basename(relPath);
        await h.openFile(relPath);
        await h.palette('Async Trace: Trace Async Run');
        return waitFor(async () => (await h.state()).runs.find((r) => r.label === label && r.exit && !r.live), timeoutMs, `the traced run of ${label} to end`);
      },
      async screenshot(name) {
        const file = screenshotPath(name);
        await page.screenshot({ path: file });
        return file;
      },
      webviewFrame: (match, timeoutMs = 15000) => findWebviewFrame(page, match, timeoutMs),
      waitFor,
      close: cleanup,
    };
    return h;
  } catch (err) {
    if (existsSync(logFile)) {
      const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
      err.message += `\n--- code-server log (last lines) ---\n${tail}`;
    }
    await cleanup();
    throw err;
  }
}

/** Webview content lives two iframes deep: workbench > iframe.webview (host) > #active-frame. */
async function findWebviewFrame(page, match, timeoutMs) {
  const contentFrames = () => page.frames().filter((f) => f.parentFrame()?.parentFrame() === page.mainFrame());
  return waitFor(async () => {
    for (const frame of contentFrames()) {
      const el = await frame.frameElement().catch(() => undefined);
      if (!el || (await el.getAttribute('id')) !== 'active-frame') continue;
      if (typeof match === 'function') {
        if (await match(frame)) return frame;
        continue;
      }
      if ((await frame.title()).includes(match)) return frame;
      // Else match the editor tab label: the host iframe's name is the webview id, which the
      // workbench does not expose, so take the active tab's title and the visible webview.
      const activeTab = page.locator('.tabs-container .tab.active .label-name').first();
      const label = await activeTab.textContent({ timeout: 500 }).catch(() => null);
      if (label && label.includes(match)) {
        const host = await el.ownerFrame();
        const hostEl = host && (await host.frameElement());
        if (hostEl && (await hostEl.isVisible())) return frame;
      }
    }
    return undefined;
  }, timeoutMs, `webview ${typeof match === 'string' ? JSON.stringify(match) : 'matching predicate'}`);
}
