// Which Python runs a traced program: the Python extension's selected interpreter when that
// extension is installed, else `asyncTrace.pythonPath`, else python3/python on PATH. Each
// interpreter's version is checked once (spawned with a tiny probe) and cached.
import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import * as os from 'node:os';
import {
  VERSION_PROBE, defaultInterpreterCandidates, isSupportedPython, parseVersionProbe, resolveVariables,
  versionText, type PythonVersion,
} from '../core/runPlan';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

export interface Interpreter {
  /** What to spawn (absolute when known). */
  command: string;
  version: PythonVersion;
  source: 'pythonExtension' | 'setting' | 'path';
}

/** A failure the user can fix; `actions` are offered as buttons on the error message. */
export class RunSetupError extends Error {
  constructor(message: string, readonly actions: ErrorAction[] = []) {
    super(message);
  }
}

export interface ErrorAction { title: string; run: () => unknown }

export function hasPythonExtension(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
}

/** Buttons that fix a wrong interpreter: pick another one (Python extension) or set the setting. */
export function interpreterActions(): ErrorAction[] {
  const actions: ErrorAction[] = [];
  if (hasPythonExtension()) {
    actions.push({
      title: vscode.l10n.t('Select Interpreter'),
      run: () => vscode.commands.executeCommand('python.setInterpreter'),
    });
  }
  actions.push({
    title: vscode.l10n.t('Open Settings'),
    run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'asyncTrace.pythonPath'),
  });
  return actions;
}

type Probe = { ok: true; version: PythonVersion; executable?: string } | { ok: false; notFound: boolean; detail: string };

const probeCache = new Map<string, Promise<Probe>>();

/** Forget cached versions (the user changed settings or selected another interpreter). */
export function clearInterpreterCache(): void {
  probeCache.clear();
}

/** Runs the version probe in `cwd` (a pyenv shim picks the interpreter by the folder's .python-version). */
function probe(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined): Promise<Probe> {
  const key = `${command}\0${cwd ?? ''}`;
  let p = probeCache.get(key);
  if (!p) {
    p = new Promise<Probe>((resolve) => {
      execFile(command, ['-I', '-c', VERSION_PROBE], { timeout: 15_000, env, cwd, windowsHide: true }, (err, stdout, stderr) => {
        const parsed = parseVersionProbe(String(stdout));
        if (parsed) {
          resolve({ ok: true, version: parsed.version, executable: parsed.executable });
          return;
        }
        // `-I` is unknown to Python 2 and very old 3.x: ask the plain way for the version.
        execFile(command, ['--version'], { timeout: 15_000, env, cwd, windowsHide: true }, (err2, out2, errOut2) => {
          const v = parseVersionProbe(String(out2) || String(errOut2));
          if (v) resolve({ ok: true, version: v.version });
          else {
            const e = (err2 ?? err) as NodeJS.ErrnoException | null;
            const notFound = e?.code === 'ENOENT' || e?.code === 'EACCES' || e?.code === 'ENOTDIR';
            resolve({ ok: false, notFound, detail: (String(stderr) || e?.message || '').trim().split(/\r?\n/).pop() ?? '' });
          }
        });
      });
    });
    probeCache.set(key, p);
    // A missing interpreter may be installed a minute later: do not cache failures.
    void p.then((r) => { if (!r.ok) probeCache.delete(key); });
  }
  return p;
}

/** The Python extension's active interpreter for `resource`, or undefined (absent, none selected, slow). */
async function interpreterFromPythonExtension(resource: vscode.Uri | undefined): Promise<string | undefined> {
  if (!hasPythonExtension()) return undefined;
  try {
    const { PythonExtension } = await import('@vscode/python-extension');
    const lookup = (async () => {
      const api = await PythonExtension.api();
      const envPath = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(envPath);
      return resolved?.executable.uri?.fsPath ?? envPath?.path;
    })();
    // Activation of the Python extension can take a while on first use, but never block forever.
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000));
    return await Promise.race([lookup, timeout]);
  } catch {
    return undefined;
  }
}

function checkVersion(command: string, version: PythonVersion, origin: string): void {
  if (!isSupportedPython(version)) {
    throw new RunSetupError(
      vscode.l10n.t(
        'Python {0} ({1}) is too old: Async Trace needs Python 3.9 or newer. Select a newer interpreter or set "asyncTrace.pythonPath" to one.',
        versionText(version), origin === command ? command : `${origin}: ${command}`,
      ),
      interpreterActions(),
    );
  }
}

/** Finds and checks the interpreter for a program in `folder` (throws RunSetupError with the fix). */
export async function findInterpreter(resource: vscode.Uri | undefined, folder: string | undefined): Promise<Interpreter> {
  const env = process.env;
  const fromExt = await interpreterFromPythonExtension(resource);
  if (fromExt) {
    const r = await probe(fromExt, env, folder);
    if (r.ok) {
      checkVersion(fromExt, r.version, vscode.l10n.t('selected in the Python extension'));
      return { command: fromExt, version: r.version, source: 'pythonExtension' };
    }
    // Fall through: the selected interpreter may have been deleted; the setting or PATH may still work.
  }

  const configured = vscode.workspace.getConfiguration('asyncTrace', resource).get<string>('pythonPath', '').trim();
  if (configured) {
    const command = resolveVariables(configured, { workspaceFolder: folder, userHome: os.homedir(), env });
    const r = await probe(command, env, folder);
    if (!r.ok) {
      throw new RunSetupError(
        r.notFound
          ? vscode.l10n.t('The Python interpreter "{0}" set in "asyncTrace.pythonPath" was not found. Fix the setting (or clear it to use python3 from PATH).', command)
          : vscode.l10n.t('"{0}" set in "asyncTrace.pythonPath" did not run as Python: {1}. Fix the setting (or clear it to use python3 from PATH).', command, r.detail || vscode.l10n.t('it printed no Python version')),
        interpreterActions(),
      );
    }
    checkVersion(command, r.version, 'asyncTrace.pythonPath');
    return { command, version: r.version, source: 'setting' };
  }

  let tooOld: { command: string; version: PythonVersion } | undefined;
  for (const name of defaultInterpreterCandidates(process.platform)) {
    const r = await probe(name, env, folder);
    if (!r.ok) continue;
    const command = r.executable || name;
    if (isSupportedPython(r.version)) return { command, version: r.version, source: 'path' };
    tooOld ??= { command, version: r.version };
  }
  if (tooOld) checkVersion(tooOld.command, tooOld.version, 'PATH');
  throw new RunSetupError(
    hasPythonExtension()
      ? vscode.l10n.t('No Python interpreter found. Select one with "Python: Select Interpreter", or set "asyncTrace.pythonPath" to a Python 3.9+ executable.')
      : vscode.l10n.t('No Python interpreter found (tried python3 and python on PATH). Install Python 3.9 or newer, or set "asyncTrace.pythonPath" to its executable.'),
    interpreterActions(),
  );
}

export function registerPythonEnvironment(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('asyncTrace.pythonPath')) clearInterpreterCache();
    }),
  );
  // Re-probe when the user picks another interpreter in the Python extension (only if it is active already).
  const ext = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
  if (ext?.isActive) {
    void import('@vscode/python-extension').then(async ({ PythonExtension }) => {
      const api = await PythonExtension.api();
      context.subscriptions.push(api.environments.onDidChangeActiveEnvironmentPath(() => clearInterpreterCache()));
    }).catch(() => undefined);
  }
}
