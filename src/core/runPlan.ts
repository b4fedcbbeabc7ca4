// Pure planning for a traced run: which program, which arguments, which environment, and how to
// read what the interpreter and the runtime say back. No `vscode`, no processes: unit-testable.

/** Oldest Python the runtime supports (asyncio task hooks it relies on). */
export const MIN_PYTHON: readonly [number, number] = [3, 9];

export interface PythonVersion { major: number; minor: number; micro: number }

/** What the interpreter probe prints: version on the first line, sys.executable on the second. */
export const VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.executable)";

/** Parses the probe's output (or `python --version` output). Undefined when it is not a Python. */
export function parseVersionProbe(stdout: string): { version: PythonVersion; executable?: string } | undefined {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) return undefined;
  const m = /^(?:Python\s+)?(\d+)\.(\d+)(?:\.(\d+))?/.exec(lines[0]);
  if (!m) return undefined;
  const version = { major: Number(m[1]), minor: Number(m[2]), micro: m[3] === undefined ? 0 : Number(m[3]) };
  return { version, executable: lines[1] || undefined };
}

export function isSupportedPython(v: PythonVersion): boolean {
  return v.major > MIN_PYTHON[0] || (v.major === MIN_PYTHON[0] && v.minor >= MIN_PYTHON[1]);
}

export function versionText(v: PythonVersion): string {
  return `${v.major}.${v.minor}.${v.micro}`;
}

/** Interpreter names tried on PATH when nothing is configured, in order. */
export function defaultInterpreterCandidates(platform: string): string[] {
  return platform === 'win32' ? ['python', 'py', 'python3'] : ['python3', 'python'];
}

// ---------------------------------------------------------------------------------------------
// Variables in settings

export interface VariableContext {
  workspaceFolder?: string;
  file?: string;
  userHome?: string;
  env: Readonly<Record<string, string | undefined>>;
}

/**
 * Resolves the VS Code variables settings commonly use: ${workspaceFolder}, ${workspaceFolderBasename},
 * ${file}, ${fileDirname}, ${fileBasename}, ${userHome}, ${env:NAME}, and a leading `~`.
 * Unknown variables are left as written so the user sees them in the error that follows.
 */
export function resolveVariables(value: string, ctx: VariableContext): string {
  let out = value.replace(/\$\{([^}]+)\}/g, (whole, name: string) => {
    if (name.startsWith('env:')) return ctx.env[name.slice(4)] ?? '';
    switch (name) {
      case 'workspaceFolder': case 'workspaceRoot': return ctx.workspaceFolder ?? whole;
      case 'workspaceFolderBasename': return ctx.workspaceFolder ? basename(ctx.workspaceFolder) : whole;
      case 'file': return ctx.file ?? whole;
      case 'fileDirname': return ctx.file ? dirname(ctx.file) : whole;
      case 'fileBasename': return ctx.file ? basename(ctx.file) : whole;
      case 'userHome': return ctx.userHome ?? whole;
      case 'pathSeparator': return '/';
      default: return whole;
    }
  });
  if (ctx.userHome && (out === '~' || out.startsWith('~/'))) out = ctx.userHome + out.slice(1);
  return out;
}

function basename(p: string): string {
  const parts = p.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}

function dirname(p: string): string {
  const i = Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\'));
  return i <= 0 ? (i === 0 ? p.slice(0, 1) : '.') : p.slice(0, i);
}

/** True for a path the runtime can run as a script. */
export function isPythonScriptPath(p: string): boolean {
  return /\.pyw?$/i.test(p);
}

// ---------------------------------------------------------------------------------------------
// Command line and environment

export type RunTarget = { kind: 'script'; path: string } | { kind: 'module'; name: string };

export interface RuntimeInvocation {
  /**
   * The runtime's package directory (`.../asynctrace`), run by path rather than `-m asynctrace`:
   * a module named `asynctrace` in the working directory must not shadow the runtime.
   */
  runtimePackage: string;
  target: RunTarget;
  args: readonly string[];
  port: number;
  outFile: string;
  blockMs?: number;
}

/** Arguments after the interpreter: `RUNTIME_PACKAGE --connect ... -o ... [--block-ms N] (SCRIPT | -m MODULE) ARGS`. */
export function buildRuntimeArgs(inv: RuntimeInvocation): string[] {
  const argv = [inv.runtimePackage, '--connect', `127.0.0.1:${inv.port}`, '-o', inv.outFile];
  if (inv.blockMs !== undefined && Number.isFinite(inv.blockMs) && inv.blockMs > 0) {
    argv.push('--block-ms', String(Math.round(inv.blockMs)));
  }
  if (inv.target.kind === 'module') argv.push('-m', inv.target.name);
  else argv.push(inv.target.path);
  argv.push(...inv.args);
  return argv;
}

export interface EnvInput {
  /** The extension host's environment (inherited). */
  base: Readonly<Record<string, string | undefined>>;
  /** `asyncTrace.env`, already variable-resolved. */
  extra: Readonly<Record<string, string | null | undefined>>;
  /** Folder holding the `asynctrace` package. */
  runtimeDir: string;
  token: string;
  /** path.delimiter of the platform. */
  delimiter: string;
}

/**
 * The child's environment: inherited + settings, unbuffered output (so the terminal shows prints as
 * they happen), the runtime first on PYTHONPATH (before what the user had), and the run's token.
 * A `null` value in the settings removes an inherited variable.
 */
export function buildRunEnv(input: EnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.base)) if (v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(input.extra)) {
    if (v === null || v === undefined) delete env[k];
    else env[k] = String(v);
  }
  env.PYTHONUNBUFFERED = '1';
  const existing = env.PYTHONPATH;
  env.PYTHONPATH = existing ? `${input.runtimeDir}${input.delimiter}${existing}` : input.runtimeDir;
  env.ASYNCTRACE_TOKEN = input.token;
  return env;
}

/** A readable label for the run: the script's file name, or `-m module`. */
export function runLabel(target: RunTarget): string {
  return target.kind === 'module' ? `-m ${target.name}` : basename(target.path);
}

/** File name for the run's trace in the extension's storage: sortable by time, unique. */
export function traceFileName(target: RunTarget, when: Date, unique: string): string {
  const stem = (target.kind === 'module' ? target.name : basename(target.path).replace(/\.pyw?$/i, ''))
    .replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'run';
  const p2 = (n: number) => String(n).padStart(2, '0');
  const stamp = `${when.getFullYear()}${p2(when.getMonth() + 1)}${p2(when.getDate())}-${p2(when.getHours())}${p2(when.getMinutes())}${p2(when.getSeconds())}`;
  return `${stamp}-${stem}-${unique}.jsonl`;
}

/** Which stored traces to delete: all but the newest `keep`, never one still in use. */
export function tracesToPrune(
  files: readonly { name: string; mtimeMs: number }[],
  keep: number,
  inUse: ReadonlySet<string>,
): string[] {
  const sorted = files.filter((f) => f.name.endsWith('.jsonl')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  return sorted.slice(keep).map((f) => f.name).filter((n) => !inUse.has(n));
}

// ---------------------------------------------------------------------------------------------
// What went wrong

export type FailureKind = 'gevent-missing' | 'greenlet-missing' | 'runtime-missing' | 'runtime-too-old' | 'other';

export interface FailureDiagnosis {
  kind: FailureKind;
  /** The most telling stderr line (e.g. the exception line of a traceback), or ''. */
  summary: string;
}

/** Keeps the last `max` characters of a stream (stderr tail for error messages). */
export class TailBuffer {
  private text = '';
  constructor(private readonly max = 16_384) {}
  push(s: string): void {
    this.text += s;
    if (this.text.length > this.max * 2) this.text = this.text.slice(-this.max);
  }
  toString(): string { return this.text.length > this.max ? this.text.slice(-this.max) : this.text; }
}

/**
 * Reads a failed run's stderr: a missing gevent/greenlet, a missing runtime package, or the last
 * exception line of a traceback, so the error message can name the cause and the fix.
 */
export function diagnoseStderr(stderr: string): FailureDiagnosis {
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, '');
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim().length > 0);
  const summary = summarizeStderr(lines);
  const missing = /No module named '?([A-Za-z0-9_.]+)'?/.exec(text);
  if (missing) {
    const top = missing[1].split('.')[0];
    if (top === 'gevent') return { kind: 'gevent-missing', summary };
    if (top === 'greenlet') return { kind: 'greenlet-missing', summary };
    if (top === 'asynctrace') return { kind: 'runtime-missing', summary };
  }
  // The runtime's package directory, run by path, is gone (a broken install).
  if (/can't open file '[^'\n]*asynctrace'/.test(text)) return { kind: 'runtime-missing', summary };
  if (/asynctrace[^\n]*(requires Python 3\.\d+|Python 3\.\d+ or newer is required)/i.test(text)) return { kind: 'runtime-too-old', summary };
  return { kind: 'other', summary };
}

function summarizeStderr(lines: string[]): string {
  // A traceback's exception line is the last line that does not start with whitespace after
  // "Traceback"; otherwise the last non-empty line.
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i];
    if (/^\s/.test(l) || /^Traceback \(most recent call last\)/.test(l)) continue;
    if (/^(During handling|The above exception)/.test(l)) continue;
    return l.length > 300 ? `${l.slice(0, 297)}...` : l;
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Terminal: text out, keystrokes in

/** Converts program output to terminal text: bare "\n" becomes "\r\n" (xterm needs the carriage return). */
export function toTerminalText(s: string): string {
  // A "\r" ending the previous chunk before a "\n" starting this one gives "\r\r\n": harmless.
  return s.replace(/\r?\n/g, '\r\n');
}

export interface InputResult {
  /** What to echo on the terminal (the program's stdin is a pipe, so there is no tty echo). */
  echo: string;
  /** Complete lines (with "\n") to write to the child's stdin. */
  lines: string[];
  /** Ctrl-C was typed: interrupt the program. */
  interrupt: boolean;
  /** Ctrl-D on an empty line: close the child's stdin. */
  endOfInput: boolean;
}

/**
 * A minimal line discipline for a program whose stdin is a pipe: the user edits a line locally
 * (echo, Backspace, Ctrl-U), Enter sends it, Ctrl-C interrupts, Ctrl-D sends the partial line or,
 * on an empty line, ends the input, as a terminal in canonical mode does.
 */
export class LineDiscipline {
  private line = '';
  private closed = false;

  get pending(): string { return this.line; }
  get inputClosed(): boolean { return this.closed; }

  feed(data: string): InputResult {
    const r: InputResult = { echo: '', lines: [], interrupt: false, endOfInput: false };
    // Pasted text arrives in one chunk; escape sequences (arrows, function keys) are dropped.
    const chars = Array.from(data.replace(/\x1b(\[[0-9;?]*[ -/]*[@-~]|O.|.)/g, ''));
    for (const ch of chars) {
      if (ch === '\x03') {
        r.echo += '^C\r\n';
        this.line = '';
        r.interrupt = true;
      } else if (this.closed) {
        continue;
      } else if (ch === '\r' || ch === '\n') {
        r.echo += '\r\n';
        r.lines.push(this.line + '\n');
        this.line = '';
      } else if (ch === '\x7f' || ch === '\b') {
        if (this.line.length > 0) {
          const cps = Array.from(this.line);
          cps.pop();
          this.line = cps.join('');
          r.echo += '\b \b';
        }
      } else if (ch === '\x15') {
        const n = Array.from(this.line).length;
        r.echo += '\b \b'.repeat(n);
        this.line = '';
      } else if (ch === '\x04') {
        if (this.line.length > 0) {
          r.lines.push(this.line);
          this.line = '';
        } else {
          this.closed = true;
          r.endOfInput = true;
        }
      } else if (ch === '\t' || ch >= ' ') {
        this.line += ch;
        r.echo += ch;
      }
    }
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// Status text figures

/** 3400 -> "3,400" (grouping per locale). */
export function formatCount(n: number, locale?: string): string {
  try {
    return new Intl.NumberFormat(locale || 'en').format(n);
  } catch {
    return String(n);
  }
}

/** Elapsed wall time for the status bar: "0.4 s", "12.5 s", "2 min 5 s". */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

// ---------------------------------------------------------------------------------------------
// Mapping trace paths to local files

/**
 * Candidate local paths for a file recorded in a trace made elsewhere: the part below the trace's
 * `cwd`, placed under each workspace folder; else, the path's tail (up to 4 segments) under each
 * workspace folder, longest first. The caller keeps the first that exists.
 */
export function mapRecordedPath(file: string, recordedCwd: string | undefined, folders: readonly string[]): string[] {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const f = norm(file);
  const out: string[] = [];
  const join = (a: string, b: string) => `${norm(a)}/${b.replace(/^\/+/, '')}`;
  if (recordedCwd) {
    const cwd = norm(recordedCwd);
    if (cwd && f.startsWith(cwd + '/')) {
      const rel = f.slice(cwd.length + 1);
      for (const folder of folders) out.push(join(folder, rel));
    }
  }
  const segs = f.split('/').filter(Boolean);
  for (let n = Math.min(4, segs.length); n >= 1; n--) {
    const tail = segs.slice(segs.length - n).join('/');
    for (const folder of folders) {
      const cand = join(folder, tail);
      if (!out.includes(cand)) out.push(cand);
    }
  }
  return out;
}
