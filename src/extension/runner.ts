// "Trace Async Run" and "Stop": runs a Python program under the runtime (its package directory run by path),
// streams its events over a token-checked loopback socket into a live TraceRun, and gives the
// program a terminal of its own.
import * as vscode from 'vscode';
import { plainText } from '../core/untrusted';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { TraceRun } from '../core/traceModel';
import { partialLoopsMessage } from '../core/taskTreeModel';
import {
  TailBuffer, buildRunEnv, buildRuntimeArgs, diagnoseStderr, isPythonScriptPath, resolveVariables, runLabel,
  traceFileName, tracesToPrune, versionText, type RunTarget,
} from '../core/runPlan';
import type { TraceRuns } from './traceRuns';
import { LiveStream } from './liveStream';
import { RunTerminal } from './runTerminal';
import {
  RunSetupError, findInterpreter, hasPythonExtension, interpreterActions, registerPythonEnvironment, type ErrorAction, type Interpreter,
} from './pythonEnvironment';
import { contributeTestState } from './testHooks';
import { offerTimelineOnFirstEnd, revealOnFirstRun } from './firstRun';
import { timelineIsOpen } from './ganttPanel';

/** Stored traces kept in the extension's storage (older ones are deleted when a run starts). */
const KEEP_TRACES = 20;
/** Stop: SIGINT first (the runtime writes a clean exit), then SIGTERM, then SIGKILL. */
const STOP_ESCALATE_MS = 2000;
/** After the process exits, how long the event socket may take to deliver its last bytes. */
const STREAM_DRAIN_MS = 3000;

let sessionCounter = 0;

/** One traced program: its process, event stream, terminal and live run. */
export class RunSession implements vscode.Disposable {
  readonly startedAt = Date.now();
  private child: ChildProcess | undefined;
  private stopTimers: NodeJS.Timeout[] = [];
  private stopping = false;
  private exited = false;
  private finished = false;
  exitCode: number | null = null;
  /** ms from start: process exit, event stream end (for the test hook's figures). */
  exitAtMs: number | undefined;
  streamEndAtMs: number | undefined;
  exitSignal: NodeJS.Signals | null = null;
  private readonly stderrTail = new TailBuffer();
  private readonly finishedEmitter = new vscode.EventEmitter<RunSession>();
  readonly onDidFinish = this.finishedEmitter.event;

  constructor(
    readonly run: TraceRun,
    readonly target: RunTarget,
    readonly stream: LiveStream,
    readonly terminal: RunTerminal,
    readonly interpreter: Interpreter,
  ) {}

  get pid(): number | undefined { return this.child?.pid; }
  get isStopping(): boolean { return this.stopping; }
  get isFinished(): boolean { return this.finished; }
  get stderr(): string { return this.stderrTail.toString(); }

  start(command: string, args: string[], cwd: string, env: Record<string, string>): void {
    // detached: the program leads its own process group, so Stop reaches the children it starts.
    const child = spawn(command, args, {
      cwd, env, detached: process.platform !== 'win32', stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true,
    });
    this.child = child;
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    child.stdout?.on('data', (b: Buffer) => this.terminal.writeOutput(out.write(b)));
    child.stderr?.on('data', (b: Buffer) => {
      const s = err.write(b);
      this.stderrTail.push(s);
      this.terminal.writeOutput(s);
    });
    child.stdin?.on('error', () => undefined); // EPIPE after the program closed its stdin
    child.on('error', (e: NodeJS.ErrnoException) => {
      this.stderrTail.push(`\n${e.message}\n`);
      this.onExit(null, null, e);
    });
    // 'close' waits for stdout/stderr to drain; a grandchild holding them open must not delay the end forever.
    let closeTimer: NodeJS.Timeout | undefined;
    child.on('exit', (code, signal) => {
      closeTimer = setTimeout(() => this.onExit(code, signal), 1000);
    });
    child.on('close', (code, signal) => {
      if (closeTimer) clearTimeout(closeTimer);
      const tail = out.end() + err.end();
      if (tail) this.terminal.writeOutput(tail);
      this.onExit(code, signal);
    });
  }

  /** Text typed in the terminal. */
  sendInput(text: string): void {
    const stdin = this.child?.stdin;
    if (stdin && !stdin.destroyed && stdin.writable) stdin.write(text);
  }

  endInput(): void {
    this.child?.stdin?.end();
  }

  /** Ctrl-C in the terminal: like a real terminal, SIGINT to the program's process group. */
  interrupt(): void {
    this.signal('SIGINT');
  }

  /** Stop: SIGINT, then SIGTERM after ~2 s, then SIGKILL; the trace up to then stays. */
  stop(): void {
    if (this.exited || this.stopping) return;
    this.stopping = true;
    this.terminal.writeNote(vscode.l10n.t('[Async Trace] Stopping: interrupting the program...'));
    this.signal('SIGINT');
    this.stopTimers.push(setTimeout(() => this.signal('SIGTERM'), STOP_ESCALATE_MS));
    this.stopTimers.push(setTimeout(() => this.signal('SIGKILL'), STOP_ESCALATE_MS * 2));
  }

  /** Extension shutting down: the program must not outlive it. */
  killNow(): void {
    if (!this.exited) this.signal('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    const child = this.child;
    if (!child?.pid) return;
    if (process.platform !== 'win32') {
      try {
        process.kill(-child.pid, sig);
        return;
      } catch {
        // The group is gone (ESRCH): fall back to the process itself.
      }
    }
    try { child.kill(sig); } catch { /* already exited */ }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException): void {
    if (this.exited) return;
    this.exited = true;
    this.exitAtMs = Date.now() - this.startedAt;
    this.exitCode = code;
    this.exitSignal = signal;
    for (const t of this.stopTimers) clearTimeout(t);
    this.stopTimers = [];
    if (this.stopping && process.platform !== 'win32' && this.child?.pid) {
      // Stopped by the user: children the program left behind go too.
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* none left */ }
    }
    this.spawnError = spawnError;
    if ((this.stream.finished || !this.stream.connected) && this.stream.openProcesses === 0) {
      // Never connected: nothing more can arrive.
      this.stream.dispose();
      this.streamEnded();
    } else {
      setTimeout(() => { this.stream.dispose(); this.streamEnded(); }, STREAM_DRAIN_MS);
    }
  }

  spawnError: NodeJS.ErrnoException | undefined;

  /** The event socket ended (called by the stream handler and after the drain timeout). */
  streamEnded(): void {
    this.streamEndAtMs ??= Date.now() - this.startedAt;
    if (this.exited) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.run.finish();
    this.terminal.markEnded();
    this.finishedEmitter.fire(this);
    this.finishedEmitter.dispose();
  }

  dispose(): void {
    // Stop as the user would; if the extension host exits before the escalation timers fire, its
    // 'exit' hook (registerRunner) kills what is left.
    if (!this.exited) this.stop();
  }
}

/** Live sessions, by run key (several may run at once). */
const sessions = new Map<string, RunSession>();
const sessionsEmitter = new vscode.EventEmitter<void>();
/** A session started or finished (the status bar listens). */
export const onDidChangeSessions = sessionsEmitter.event;

export function activeSessions(): RunSession[] {
  return [...sessions.values()];
}

export function sessionForRun(key: string): RunSession | undefined {
  return sessions.get(key);
}

/** The terminal of the latest run of each program (by label). */
const lastTerminals = new Map<string, RunTerminal>();

/** Errors shown to the user, newest last (for the test hook). */
const shownErrors: string[] = [];

function showError(message: string, actions: ErrorAction[] = []): void {
  shownErrors.push(message);
  if (shownErrors.length > 20) shownErrors.shift();
  // Not awaited: a notification can stay open for minutes; the command must complete.
  void vscode.window.showErrorMessage(message, ...actions.map((a) => a.title)).then((choice) => {
    actions.find((a) => a.title === choice)?.run();
  });
}

function openSettingAction(setting: string): ErrorAction {
  return {
    title: vscode.l10n.t('Open Settings'),
    run: () => vscode.commands.executeCommand('workbench.action.openSettings', setting),
  };
}

interface PlannedTarget { target: RunTarget; resource: vscode.Uri | undefined }

/** Which program to trace: the explorer/editor URI, else the settings, else the active Python file. */
async function chooseTarget(arg: unknown): Promise<PlannedTarget> {
  const uri = arg instanceof vscode.Uri ? arg : undefined;
  if (uri) {
    if (uri.scheme !== 'file') {
      throw new RunSetupError(vscode.l10n.t('Async Trace can only trace files on disk; "{0}" is not one. Save it to a file first.', uri.toString()));
    }
    if (!isPythonScriptPath(uri.fsPath)) {
      throw new RunSetupError(
        vscode.l10n.t('"{0}" is not a Python file. Trace a .py file, or set "asyncTrace.program" / "asyncTrace.module" to the program to run.', plainText(path.basename(uri.fsPath))),
        [openSettingAction('asyncTrace.program')],
      );
    }
    await saveIfDirty(uri);
    return { target: { kind: 'script', path: uri.fsPath }, resource: uri };
  }

  const editorUri = vscode.window.activeTextEditor?.document.uri;
  const config = vscode.workspace.getConfiguration('asyncTrace', editorUri ?? vscode.workspace.workspaceFolders?.[0]?.uri);
  const module = config.get<string>('module', '').trim();
  const program = config.get<string>('program', '').trim();
  if (module) {
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(module)) {
      throw new RunSetupError(
        vscode.l10n.t('"{0}" in "asyncTrace.module" is not a Python module name (for example "myapp.server").', module),
        [openSettingAction('asyncTrace.module')],
      );
    }
    return { target: { kind: 'module', name: module }, resource: vscode.workspace.workspaceFolders?.[0]?.uri };
  }
  if (program) {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    let p = resolveVariables(program, { workspaceFolder: folder, file: editorUri?.fsPath, userHome: os.homedir(), env: process.env });
    if (!path.isAbsolute(p) && folder) p = path.join(folder, p);
    if (!isPythonScriptPath(p)) {
      throw new RunSetupError(
        vscode.l10n.t('"asyncTrace.program" is "{0}", which is not a Python file. Set it to a .py script, or use "asyncTrace.module" for a module.', program),
        [openSettingAction('asyncTrace.program')],
      );
    }
    if (!fs.existsSync(p)) {
      throw new RunSetupError(vscode.l10n.t('The program "{0}" set in "asyncTrace.program" does not exist.', p), [openSettingAction('asyncTrace.program')]);
    }
    const u = vscode.Uri.file(p);
    await saveIfDirty(u);
    return { target: { kind: 'script', path: p }, resource: u };
  }

  const doc = vscode.window.activeTextEditor?.document;
  if (!doc) {
    throw new RunSetupError(
      vscode.l10n.t('Open a Python file to trace it, or set "asyncTrace.program" to the program to run.'),
      [openSettingAction('asyncTrace.program')],
    );
  }
  const isPython = doc.languageId === 'python' || isPythonScriptPath(doc.uri.fsPath);
  if (!isPython) {
    throw new RunSetupError(
      vscode.l10n.t('The active file "{0}" is not a Python file. Open a Python file to trace it, or set "asyncTrace.program".', path.basename(doc.uri.path)),
      [openSettingAction('asyncTrace.program')],
    );
  }
  if (doc.isUntitled || doc.uri.scheme !== 'file') {
    throw new RunSetupError(vscode.l10n.t('Save this Python file to disk before tracing it.'));
  }
  if (doc.isDirty && !(await doc.save())) {
    throw new RunSetupError(vscode.l10n.t('Could not save "{0}" before tracing it.', path.basename(doc.uri.fsPath)));
  }
  return { target: { kind: 'script', path: doc.uri.fsPath }, resource: doc.uri };
}

async function saveIfDirty(uri: vscode.Uri): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (doc?.isDirty) await doc.save();
}

function workspaceFolderFor(resource: vscode.Uri | undefined): vscode.WorkspaceFolder | undefined {
  return (resource && vscode.workspace.getWorkspaceFolder(resource)) ?? vscode.workspace.workspaceFolders?.[0];
}

/** The traces folder in the extension's storage, pruned to the newest files. */
async function prepareTraceDir(context: vscode.ExtensionContext, runs: TraceRuns): Promise<string> {
  const dir = path.join(context.globalStorageUri.fsPath, 'traces');
  await fs.promises.mkdir(dir, { recursive: true });
  try {
    const names = await fs.promises.readdir(dir);
    const files = await Promise.all(names.map(async (name) => {
      const st = await fs.promises.stat(path.join(dir, name)).catch(() => undefined);
      return { name, mtimeMs: st?.mtimeMs ?? 0 };
    }));
    const inUse = new Set<string>();
    for (const r of runs.runs) {
      const src = (r as { sourcePath?: string }).sourcePath;
      if (src && path.dirname(src) === dir) inUse.add(path.basename(src));
    }
    for (const name of tracesToPrune(files, KEEP_TRACES - 1, inUse)) {
      await fs.promises.unlink(path.join(dir, name)).catch(() => undefined);
    }
  } catch {
    // Pruning is housekeeping: never fail a run over it.
  }
  return dir;
}

async function traceRun(context: vscode.ExtensionContext, runs: TraceRuns, arg: unknown): Promise<RunSession | undefined> {
  if (!vscode.workspace.isTrusted) {
    showError(
      vscode.l10n.t('Tracing runs code from this workspace, which is not trusted. Trust the workspace to trace programs; opening trace files works without trust.'),
      [{ title: vscode.l10n.t('Manage Workspace Trust'), run: () => vscode.commands.executeCommand('workbench.trust.manage') }],
    );
    return undefined;
  }
  let planned: PlannedTarget;
  let interpreter: Interpreter;
  try {
    planned = await chooseTarget(arg);
    const folder = workspaceFolderFor(planned.resource);
    interpreter = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Async Trace: finding Python...') },
      () => findInterpreter(planned.resource, folder?.uri.fsPath),
    );
  } catch (e) {
    if (e instanceof RunSetupError) showError(e.message, e.actions);
    else showError(vscode.l10n.t('Could not start the traced run: {0}', e instanceof Error ? e.message : String(e)));
    return undefined;
  }
  return startSession(context, runs, planned, interpreter);
}

async function startSession(
  context: vscode.ExtensionContext, runs: TraceRuns, planned: PlannedTarget, interpreter: Interpreter,
): Promise<RunSession | undefined> {
  const { target, resource } = planned;
  const folder = workspaceFolderFor(resource);
  const folderPath = folder?.uri.fsPath;
  const config = vscode.workspace.getConfiguration('asyncTrace', resource);
  const vars = { workspaceFolder: folderPath, file: target.kind === 'script' ? target.path : undefined, userHome: os.homedir(), env: process.env };
  const args = config.get<string[]>('args', []).map((a) => resolveVariables(String(a), vars));
  const extraEnv: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(config.get<Record<string, string | null>>('env', {}) ?? {})) {
    extraEnv[k] = v === null ? null : resolveVariables(String(v), vars);
  }
  const cwdSetting = config.get<string>('cwd', '').trim();
  let cwd = cwdSetting ? resolveVariables(cwdSetting, vars) : '';
  if (cwd && !path.isAbsolute(cwd)) cwd = path.join(folderPath ?? (target.kind === 'script' ? path.dirname(target.path) : os.homedir()), cwd);
  if (!cwd) cwd = folderPath ?? (target.kind === 'script' ? path.dirname(target.path) : os.homedir());
  if (!fs.existsSync(cwd)) {
    showError(vscode.l10n.t('The working directory "{0}" does not exist. Fix "asyncTrace.cwd".', cwd), [openSettingAction('asyncTrace.cwd')]);
    return undefined;
  }
  const blockMs = config.get<number>('blockThresholdMs', 100);

  let traceDir: string;
  try {
    traceDir = await prepareTraceDir(context, runs);
  } catch (e) {
    showError(vscode.l10n.t('Could not create the folder for trace files: {0}', e instanceof Error ? e.message : String(e)));
    return undefined;
  }
  const unique = randomBytes(3).toString('hex');
  const outFile = path.join(traceDir, traceFileName(target, new Date(), unique));
  const key = `run-${++sessionCounter}-${unique}`;
  const label = runLabel(target);
  const run = new TraceRun(key, label, { live: true, sourcePath: outFile });

  let session: RunSession | undefined;
  let viewErrorShown = false;
  const stream = new LiveStream({
    // The model never throws on what a stream says; a view that fails on it must not take the
    // socket's data handler (and the extension host's event loop) down: say it once, keep reading.
    onData: (text) => {
      try {
        run.ingest(text);
      } catch (err) {
        if (!viewErrorShown) {
          viewErrorShown = true;
          session?.terminal.writeNote(vscode.l10n.t('[Async Trace] A view failed to update: {0}', plainText(err instanceof Error ? err.message : String(err))), 'error');
        }
      }
    },
    onEnd: () => session?.streamEnded(),
    // The program's Python children stream over connections of their own (same token).
    onProcessData: (key, text) => {
      try {
        run.ingestProcess(key, text);
      } catch (err) {
        if (!viewErrorShown) {
          viewErrorShown = true;
          session?.terminal.writeNote(vscode.l10n.t('[Async Trace] A view failed to update: {0}', plainText(err instanceof Error ? err.message : String(err))), 'error');
        }
      }
    },
    onProcessEnd: (key) => {
      try { run.finishProcess(key); } catch { /* a view failed: said once above */ }
    },
    onError: (err) => session?.terminal.writeNote(vscode.l10n.t('[Async Trace] Event stream error: {0}', err.message), 'error'),
  });
  let port: number;
  try {
    port = await stream.listen();
  } catch (e) {
    stream.dispose();
    showError(vscode.l10n.t(
      'Async Trace could not open a local socket for the run\'s events ({0}). Check that programs may listen on 127.0.0.1 (firewall, sandbox), then try again.',
      e instanceof Error ? e.message : String(e),
    ));
    return undefined;
  }

  // The previous run of the same program leaves its terminal: replace it rather than pile them up.
  const previous = lastTerminals.get(label);
  if (previous && previous.isEnded && !previous.isClosed) previous.dispose();
  const terminal = new RunTerminal(vscode.l10n.t('Async Trace: {0}', label), {
    onInput: (text) => session?.sendInput(text),
    onInterrupt: () => session?.interrupt(),
    onEndOfInput: () => session?.endInput(),
    onClose: () => session?.stop(),
  });
  lastTerminals.set(label, terminal);
  session = new RunSession(run, target, stream, terminal, interpreter);
  const s = session;
  // Registered before anyone else hears of the session, so the session list is updated first.
  s.onDidFinish(() => onSessionFinished(s));
  watchPartialLoops(s);
  const runtimeDir = context.asAbsolutePath('src/runtime');
  const env = buildRunEnv({
    base: process.env, extra: extraEnv, runtimeDir, token: stream.token, delimiter: path.delimiter,
  });
  const argv = buildRuntimeArgs({ runtimePackage: path.join(runtimeDir, 'asynctrace'), target, args, port, outFile, blockMs });

  sessions.set(key, session);
  runs.add(run);
  void vscode.commands.executeCommand('setContext', 'asyncTrace.running', true);
  sessionsEmitter.fire();
  terminal.writeNote(vscode.l10n.t('[Async Trace] Tracing {0} with Python {1} ({2})', label, versionText(interpreter.version), interpreter.command));
  revealOnFirstRun();
  terminal.show();

  try {
    s.start(interpreter.command, argv, cwd, env);
  } catch (e) {
    // spawn throws synchronously only for invalid arguments; report like a failed start.
    s.spawnError = e as NodeJS.ErrnoException;
    s.streamEnded();
  }
  return s;
}

/**
 * Says once per run, in its terminal and as a warning, when its event loop makes or runs its tasks
 * past what the runtime watches (uvloop): the tree and timeline would otherwise just look thin.
 */
function watchPartialLoops(s: RunSession): void {
  const off = s.run.onDelta((delta) => {
    if (!delta.runChanged) return;
    const message = partialLoopsMessage(s.run, (m, ...a) => vscode.l10n.t(m, ...a));
    if (message === undefined) return;
    off();
    s.terminal.writeNote(vscode.l10n.t('[Async Trace] {0}', message));
    void vscode.window.showWarningMessage(message);
  });
  s.onDidFinish(off);
}

/** Finished sessions, newest last (for the test hook). */
const recent: { key: string; pid: number | undefined; interpreter: { command: string; source: string }; durationMs: number; exitAtMs?: number; streamEndAtMs?: number; exitCode: number | null; signal: string | null; connected: boolean; rejected: number; terminal: string }[] = [];

function onSessionFinished(s: RunSession): void {
  sessions.delete(s.run.key);
  void vscode.commands.executeCommand('setContext', 'asyncTrace.running', sessions.size > 0);
  sessionsEmitter.fire();
  const counts = s.run.counts;
  const code = s.run.exit?.code ?? s.exitCode;
  const summary = s.exitSignal && code === null
    ? vscode.l10n.t('[Async Trace] Process stopped by {0} — {1} tasks, {2} events', s.exitSignal, counts.tasks, counts.events)
    : vscode.l10n.t('[Async Trace] Process exited with code {0} — {1} tasks, {2} events', code ?? '?', counts.tasks, counts.events);
  s.terminal.writeNote(summary, code === 0 || s.isStopping ? 'info' : 'error');
  recent.push({
    key: s.run.key, pid: s.pid, interpreter: { command: s.interpreter.command, source: s.interpreter.source }, durationMs: Date.now() - s.startedAt, exitAtMs: s.exitAtMs, streamEndAtMs: s.streamEndAtMs, exitCode: s.exitCode, signal: s.exitSignal, connected: s.stream.connected, rejected: s.stream.rejected,
    terminal: s.terminal.text.slice(-4000),
  });
  if (recent.length > 10) recent.shift();
  // A run that never delivered an event has nothing to show: keep the store (and tree) clean;
  // its terminal keeps the output.
  if (!s.stream.connected && s.run.counts.events === 0) runStore?.remove(s.run);
  if (s.isStopping) return; // the user asked for it: no error popups

  const diag = diagnoseStderr(s.stderr);
  const showTerminal: ErrorAction = { title: vscode.l10n.t('Show Terminal'), run: () => s.terminal.terminal.show() };
  if (diag.kind === 'gevent-missing' || diag.kind === 'greenlet-missing') {
    const pkg = diag.kind === 'gevent-missing' ? 'gevent' : 'greenlet';
    showError(
      vscode.l10n.t(
        'This program needs {0}, which the selected Python does not have. Install it into that interpreter (for example "python -m pip install {0}", or Debian\'s "python3-{0}" for /usr/bin/python3) or select an interpreter that has it.',
        pkg,
      ),
      [...interpreterActions(), showTerminal],
    );
    return;
  }
  if (diag.kind === 'runtime-too-old') {
    showError(vscode.l10n.t('The Python that ran the program is too old for Async Trace ({0}). Select Python 3.9 or newer, or set "asyncTrace.pythonPath".', diag.summary), interpreterActions());
    return;
  }
  if (s.spawnError) {
    showError(vscode.l10n.t('Could not start Python: {0}. Check the interpreter (Python extension or "asyncTrace.pythonPath").', s.spawnError.message), interpreterActions());
    return;
  }
  if (!s.stream.connected) {
    if (diag.kind === 'runtime-missing') {
      showError(vscode.l10n.t('The Async Trace runtime could not be imported by Python ({0}). Reinstall the extension.', diag.summary || 'asynctrace'), [showTerminal]);
    } else {
      showError(
        diag.summary
          ? vscode.l10n.t('The traced run failed to start (exit code {0}): {1}', code ?? '?', diag.summary)
          : vscode.l10n.t('The traced run failed to start (exit code {0}) before sending any events. See its terminal for details.', code ?? '?'),
        [showTerminal],
      );
    }
  }
  // Otherwise the program itself ran and exited (maybe with an error): its terminal and the trace
  // tell; a window's first run also offers the timeline.
  if (s.stream.connected) {
    offerTimelineOnFirstEnd(
      s.run,
      vscode.l10n.t('Traced {0}: exit code {1}, {2} tasks, {3} events.', plainText(s.run.label), code ?? '?', counts.tasks, counts.events),
      timelineIsOpen(),
    );
  }
}

/** The session a Stop command means: its argument (run key or tree element), the selected run, the only one, or a pick. */
async function sessionToStop(runs: TraceRuns, arg: unknown): Promise<RunSession | undefined> {
  const key = typeof arg === 'string' ? arg
    : (arg && typeof arg === 'object' && typeof (arg as { runKey?: unknown }).runKey === 'string') ? (arg as { runKey: string }).runKey
      : undefined;
  if (key) return sessions.get(key);
  const selected = runs.selected && sessions.get(runs.selected.key);
  if (selected) return selected;
  const all = activeSessions();
  if (all.length <= 1) return all[0];
  const pick = await vscode.window.showQuickPick(
    all.map((s) => ({ label: plainText(s.run.label), description: vscode.l10n.t('pid {0}', s.pid ?? '?'), session: s })),
    { placeHolder: vscode.l10n.t('Which traced run should stop?') },
  );
  return pick?.session;
}

let runStore: TraceRuns | undefined;
let hostCleanupInstalled = false;

/**
 * Traced programs lead their own process group, so nothing kills them with the extension host.
 * If the host exits (normally, or by SIGTERM/SIGHUP/SIGINT, e.g. the server is shut down) while
 * programs still run, kill them first. Not removed on deactivate: that is exactly when stopping
 * programs may still be running.
 */
function installHostExitCleanup(): void {
  if (hostCleanupInstalled) return;
  hostCleanupInstalled = true;
  const killAll = () => { for (const s of sessions.values()) s.killNow(); };
  process.once('exit', killAll);
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
    const onSignal = () => {
      killAll();
      process.off(sig, onSignal);
      // A listener replaces Node's default (exit). When no one else handles the signal, let the
      // default happen as if we had not listened.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

export function registerRunner(context: vscode.ExtensionContext, runs: TraceRuns): void {
  runStore = runs;
  registerPythonEnvironment(context);
  void vscode.commands.executeCommand('setContext', 'asyncTrace.running', false);
  context.subscriptions.push(
    vscode.commands.registerCommand('asyncTrace.traceRun', async (arg?: unknown) => {
      const s = await traceRun(context, runs, arg);
      return s?.run.key;
    }),
    vscode.commands.registerCommand('asyncTrace.stop', async (arg?: unknown) => {
      const s = await sessionToStop(runs, arg);
      s?.stop();
    }),
    sessionsEmitter,
    {
      dispose: () => {
        for (const s of sessions.values()) s.dispose();
      },
    },
  );
  installHostExitCleanup();

  contributeTestState('runner', () => ({
    sessions: activeSessions().map((s) => ({
      key: s.run.key, label: s.run.label, pid: s.pid, connected: s.stream.connected, rejected: s.stream.rejected,
      stopping: s.isStopping, terminal: s.terminal.text.slice(-4000),
    })),
    finished: [...recent],
    pythonExtension: hasPythonExtension(),
    settings: (() => {
      const c = vscode.workspace.getConfiguration('asyncTrace');
      return { pythonPath: c.get('pythonPath'), program: c.get('program'), module: c.get('module'), args: c.get('args'), cwd: c.get('cwd'), env: c.get('env') };
    })(),
    errors: [...shownErrors],
  }));
}
