// The Python an e2e test needs (one that imports trio, gevent, ...), found at run time among the
// interpreters of the machine: never one hard-coded path, and not only the first python3 on PATH
// (a pyenv shim often shadows the system interpreter, where Debian's python3-* packages live).
// A test pins what it finds with launch({ pythonPath }) (harness.mjs): the workspace folder's
// `asyncTrace.pythonPath`, as a user sets it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const NAMES = ['python3', 'python3.13', 'python3.12', 'python3.11', 'python3.10', 'python3.9'];

/** pyenv's root folders (its own answer, PYENV_ROOT, the default under the home folder). */
function pyenvRoots() {
  const roots = [];
  const pr = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (pr.status === 0 && pr.stdout.trim()) roots.push(pr.stdout.trim());
  if (process.env.PYENV_ROOT) roots.push(process.env.PYENV_ROOT);
  roots.push(path.join(os.homedir(), '.pyenv'));
  return [...new Set(roots)];
}

/**
 * Every interpreter worth trying, most wanted first: the one the e2e runs are told to use
 * (ASYNC_TRACE_E2E_PYTHON), every python3* of every PATH folder, the system's own python3 (even
 * when PATH leaves its folder out), then pyenv's versions.
 */
export function candidatePythons() {
  const out = [];
  const add = (exe) => { if (exe && !out.includes(exe) && existsSync(exe)) out.push(exe); };
  add(process.env.ASYNC_TRACE_E2E_PYTHON);
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) for (const name of NAMES) add(path.join(dir, name));
  add(path.join(path.sep, 'usr', 'bin', 'python3'));
  for (const root of pyenvRoots()) {
    const versions = path.join(root, 'versions');
    if (!existsSync(versions)) continue;
    for (const v of readdirSync(versions).filter((x) => /^3\.\d+(\.\d+)?$/.test(x)).sort().reverse()) add(path.join(versions, v, 'bin', 'python3'));
  }
  return out;
}

const cache = new Map();

/**
 * The first candidate Python >= 3.9 that imports every module of `modules` (and none of `without`),
 * as its real executable (sys.executable: a pyenv shim resolves to the version it ran), or undefined.
 */
export function pythonWith(modules, { without = [] } = {}) {
  const key = JSON.stringify([modules, without]);
  if (cache.has(key)) return cache.get(key);
  const code = [
    'import importlib.util, sys',
    'assert sys.version_info >= (3, 9)',
    ...modules.map((m) => `import ${m}`),
    ...without.map((m) => `assert importlib.util.find_spec(${JSON.stringify(m)}) is None`),
    'print(sys.executable)',
  ].join('\n');
  let found;
  for (const exe of candidatePythons()) {
    const r = spawnSync(exe, ['-c', code], { encoding: 'utf8', timeout: 30000, stdio: ['ignore', 'pipe', 'ignore'] });
    const real = r.status === 0 ? r.stdout.trim() : '';
    if (real && existsSync(real)) { found = real; break; }
  }
  cache.set(key, found);
  return found;
}
