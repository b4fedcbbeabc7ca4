// `npm start`: builds the extension and serves a real VS Code (code-server) with it installed and
// the examples/ folder open, at http://127.0.0.1:8080. Open the URL in a browser. Workspace trust
// is on, as for any user: the folder opens in Restricted Mode until you trust it (banner
// "Manage", or the Async Trace view's "Manage Workspace Trust" link, then "Trust").
//
//   npm start                          build, install, serve examples/ on 127.0.0.1:8080
//   npm start -- --port 9000           another port (or env ASYNC_TRACE_PORT)
//   npm start -- --folder ../myproj    open another folder
//   npm start -- --no-build            skip the build
//   npm start -- --fresh               forget settings, trust decisions and state of earlier starts
//   npm start -- --profile DIR         keep the VS Code profile in DIR (default .e2e/dev-profile)
//
// The server listens on localhost only and has no password: don't expose it on a shared network.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SETTINGS, installExtension, startCodeServer } from './harness.mjs';
import { ROOT, ensureSetup } from './setup.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) {
    console.error(`--${name} needs a value`);
    process.exit(2);
  }
  return v;
}
const flag = (name) => process.argv.includes(`--${name}`);

if (flag('help') || flag('h')) {
  console.log('usage: npm start -- [--port N] [--folder DIR] [--profile DIR] [--no-build] [--fresh]');
  process.exit(0);
}

const port = Number(option('port', process.env.ASYNC_TRACE_PORT ?? '8080'));
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(`invalid port: ${port}`);
  process.exit(2);
}
const folder = path.resolve(option('folder', path.join(ROOT, 'examples')));
const profile = path.resolve(option('profile', path.join(ROOT, '.e2e', 'dev-profile')));
const userDataDir = path.join(profile, 'user-data');
const extensionsDir = path.join(profile, 'extensions');

if (!existsSync(folder)) {
  console.error(`folder not found: ${folder}`);
  process.exit(2);
}

try {
  ensureSetup({ browser: false });
} catch (e) {
  console.error(`[start] ${e.message}`);
  process.exit(e.exitCode ?? 1);
}

if (!flag('no-build')) {
  const b = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

if (flag('fresh')) rmSync(profile, { recursive: true, force: true });
mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
const settingsFile = path.join(userDataDir, 'User', 'settings.json');
// First start only: later the user's own changes to the settings are kept.
if (!existsSync(settingsFile)) {
  writeFileSync(
    settingsFile,
    JSON.stringify(
      {
        'workbench.startupEditor': DEFAULT_SETTINGS['workbench.startupEditor'],
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      },
      null,
      2,
    ) + '\n',
  );
}
// Reinstalled on every start so the served extension is the one just built.
installExtension(extensionsDir);

let server;
try {
  server = await startCodeServer({ folder, userDataDir, extensionsDir, port, stdio: ['ignore', 'ignore', 'inherit'] });
} catch (e) {
  console.error(`[start] ${e.message}${/in use/.test(e.message) ? ' (choose another with --port N)' : ''}`);
  process.exit(1);
}

console.log(`\nAsync Trace is running in VS Code at:\n\n    ${server.url}\n`);
console.log(`Folder: ${folder}\nProfile: ${profile}`);
console.log('The folder opens in Restricted Mode: click "Manage" in the banner, then "Trust", to trace programs.');
console.log('Press Ctrl+C to stop.\n');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
server.child.on('exit', (code, signal) => {
  if (stopping) return;
  console.error(`[start] code-server exited (${code ?? signal})`);
  process.exit(code ?? 1);
});
