// Source annotations of the selected run: gutter icons + inline hints in every visible editor of a
// file the run touched, hovers with per-task details, and problems. Live runs refresh on a
// throttle; edits shift annotations with the text (edited lines lose theirs); "Clear", removing
// the run or the toggle take everything away. The setting/toggle governs decorations, hovers and
// problems together.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isRegularFile, readSourceFile } from './sourceFiles';
import type { TraceRunView } from '../core/modelTypes';
import {
  LineAnnotator, lineHints, type FileAnnotations, type LineHint, type LineInfo, type RunAnnotations, type TaskAwaitStats,
} from '../core/lineAnnotations';
import { lineEditOf, mapTraceLine, type LineEdit } from '../core/lineEdits';
import { collectProblems, type Problem } from '../core/lineProblems';
import { AnnotationDecorations, primaryKind, type LineDecoration } from './annotationDecorations';
import { registerAnnotationHovers } from './annotationHovers';
import { TraceDiagnostics, type ResolvedProblem } from './traceDiagnostics';
import { contributeTestState } from './testHooks';
import type { TraceRuns } from './traceRuns';

const SETTING = 'asyncTrace.annotations.enabled';
const MIN_LIVE_REFRESH_MS = 300;
const LIVE_PROBLEMS_MS = 2000;
/** Longest single fold slice (ms) before yielding to the extension host's other work. */
const FOLD_SLICE_MS = 50;
/** Files up to this size are remembered as traced, so undoing every edit restores their annotations. */
const MAX_ORIGINAL_BYTES = 2 * 1024 * 1024;

interface Current {
  run: TraceRunView;
  annotator: LineAnnotator;
  ann: RunAnnotations;
  /** Local file key -> the trace's annotations for it. */
  files: Map<string, { uri: vscode.Uri; file: FileAnnotations }>;
  problems: Problem[];
  hints: Map<LineInfo, LineHint[]>;
}

/** Normalised key of a local path: how editors and trace files are matched. */
const realCache = new Map<string, string>();
export function fileKey(p: string): string {
  let key = realCache.get(p);
  if (key === undefined) {
    let real = p;
    try { real = fs.realpathSync.native(p); } catch { /* not on disk: compare as given */ }
    key = path.normalize(real);
    if (process.platform === 'win32') key = key.toLowerCase();
    if (realCache.size > 5000) realCache.clear();
    realCache.set(p, key);
  }
  return key;
}

/**
 * Where a file named by the trace is on this machine: the path itself, or, for a trace recorded
 * elsewhere, the same path relative to the trace's cwd (then to shorter suffixes) in a workspace folder.
 */
export function resolveTraceFile(traceFile: string, cwd: string | undefined, folders: readonly string[]): string | undefined {
  // Only regular files: a trace naming /dev/zero or a FIFO must not get it read.
  if (isRegularFile(traceFile)) return traceFile;
  const parts = traceFile.split(/[\\/]+/).filter(Boolean);
  const candidates: string[] = [];
  if (cwd) {
    const c = cwd.replace(/[\\/]+$/, '');
    if (traceFile.startsWith(c + '/') || traceFile.startsWith(c + '\\')) candidates.push(traceFile.slice(c.length + 1));
  }
  for (let k = Math.min(parts.length, 4); k >= 1; k--) candidates.push(parts.slice(-k).join(path.sep));
  for (const rel of candidates) {
    for (const folder of folders) {
      const p = path.join(folder, rel);
      if (isRegularFile(p)) return p;
    }
  }
  return undefined;
}

export function registerSourceAnnotations(context: vscode.ExtensionContext, runs: TraceRuns): void {
  const controller = new SourceAnnotations(context.extensionUri, runs);
  context.subscriptions.push(controller);
}

class SourceAnnotations implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly decorations: AnnotationDecorations;
  private readonly diagnostics = new TraceDiagnostics();
  private readonly annotators = new Map<TraceRunView, LineAnnotator>();
  /** Per run, per local file: the edits made since the run was recorded. */
  private readonly edits = new WeakMap<TraceRunView, Map<string, LineEdit[]>>();
  private current: Current | undefined;
  private enabled: boolean;
  private timer: NodeJS.Timeout | undefined;
  private editTimer: NodeJS.Timeout | undefined;
  private lastRefreshMs = 0;
  /** Where the last refresh spent its time (ms), for measurements. */
  private phases: Record<string, number> = {};
  private problemsAt = 0;
  /** What the Problems panel shows now, to skip identical updates. */
  private diagnosticsKey = '';
  private readonly resolved = new WeakMap<TraceRunView, Map<string, string | undefined>>();
  /** Per run, per local file: the file's text when the run was first annotated (what the trace's lines refer to). */
  private readonly originals = new WeakMap<TraceRunView, Map<string, string>>();
  /** Decorated editors, to clear the ones that no longer show an annotated file. */
  private readonly decorated = new Set<vscode.TextEditor>();

  constructor(extensionUri: vscode.Uri, private readonly runs: TraceRuns) {
    this.decorations = new AnnotationDecorations(extensionUri);
    this.enabled = vscode.workspace.getConfiguration().get<boolean>(SETTING, true);
    const d = this.disposables;
    d.push(this.decorations, this.diagnostics);
    d.push(vscode.commands.registerCommand('asyncTrace.toggleAnnotations', () => this.toggle()));
    d.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SETTING)) {
        this.enabled = vscode.workspace.getConfiguration().get<boolean>(SETTING, true);
        this.refreshNow();
      }
    }));
    d.push(runs.onDidChangeRuns(() => {
      // Removed runs: stop folding their deltas.
      for (const [run, annotator] of this.annotators) {
        if (!runs.runs.includes(run)) { annotator.dispose(); this.annotators.delete(run); }
      }
      this.refreshNow();
    }));
    d.push(runs.onDidUpdateRun(({ run }) => { if (run === runs.selected) this.schedule(); }));
    d.push(vscode.window.onDidChangeVisibleTextEditors(() => this.renderEditors()));
    d.push(vscode.workspace.onDidChangeTextDocument((e) => this.onEdit(e)));
    d.push(vscode.workspace.onDidOpenTextDocument((doc) => {
      // Reopened after closing without saving: the text is the traced one again.
      if (doc.uri.scheme === 'file') this.resetIfOriginal(fileKey(doc.uri.fsPath), doc);
    }));
    d.push(registerAnnotationHovers((doc, line) => this.lookup(doc, line)));
    contributeTestState('annotations', () => this.testState());
    this.refreshNow();
  }

  private async toggle(): Promise<void> {
    const config = vscode.workspace.getConfiguration();
    const inspect = config.inspect<boolean>(SETTING);
    const target = inspect?.workspaceFolderValue !== undefined || inspect?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    await config.update(SETTING, !this.enabled, target);
    this.enabled = vscode.workspace.getConfiguration().get<boolean>(SETTING, true);
    this.refreshNow();
    vscode.window.setStatusBarMessage(this.enabled ? vscode.l10n.t('Async Trace: source annotations on') : vscode.l10n.t('Async Trace: source annotations off'), 3000);
  }

  /** Live runs fold many batches a second: redraw at most every interval (throttle, not debounce, so a streaming run still updates). */
  private schedule(): void {
    if (this.timer) return;
    // Huge runs: never spend more than about a fifth of the time refreshing.
    const interval = Math.max(MIN_LIVE_REFRESH_MS, this.lastRefreshMs * 5,
      vscode.workspace.getConfiguration().get<number>('asyncTrace.liveUpdateIntervalMs', 250));
    this.timer = setTimeout(() => { this.timer = undefined; this.refresh(); }, interval);
  }

  private refreshNow(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.refresh();
  }

  private refresh(): void {
    const started = Date.now();
    try {
      this.refreshSelected();
    } finally {
      this.lastRefreshMs = Date.now() - started;
    }
  }

  private refreshSelected(): void {
    const run = this.runs.selected;
    const started = Date.now();
    if (!this.enabled || !run) {
      this.current = undefined;
      this.renderEditors();
      this.clearDiagnostics();
      return;
    }
    let annotator = this.annotators.get(run);
    if (!annotator) this.annotators.set(run, (annotator = new LineAnnotator(run)));
    const phases: Record<string, number> = {};
    let mark = Date.now();
    const phase = (name: string) => { const now = Date.now(); phases[name] = now - mark; mark = now; };
    this.phases = phases;
    if (!annotator.update(FOLD_SLICE_MS)) {
      // A big trace: fold it in slices so the extension host stays responsive meanwhile.
      this.phases = { ...phases, update: Date.now() - mark };
      if (!this.timer) this.timer = setTimeout(() => { this.timer = undefined; this.refresh(); }, 0);
      return;
    }
    phase('update');
    const ann = annotator.snapshot();
    phase('snapshot');
    const files = new Map<string, { uri: vscode.Uri; file: FileAnnotations }>();
    for (const f of ann.files.values()) {
      const local = this.localPath(run, f.file);
      if (local) files.set(fileKey(local), { uri: vscode.Uri.file(local), file: f });
    }
    // While a run streams, problems (a pass over all tasks) refresh less often than hints.
    const prev = this.current;
    const problems = prev && prev.run === run && run.live && started - this.problemsAt < LIVE_PROBLEMS_MS
      ? prev.problems : collectProblems(run, ann, vscode.l10n.t);
    if (!prev || problems !== prev.problems) this.problemsAt = started;
    phase('problems');
    this.current = { run, annotator, ann, files, problems, hints: new Map() };
    this.renderEditors();
    phase('editors');
    this.renderDiagnostics();
    phase('diagnostics');
  }

  private localPath(run: TraceRunView, traceFile: string): string | undefined {
    let cache = this.resolved.get(run);
    if (!cache) this.resolved.set(run, (cache = new Map()));
    if (cache.has(traceFile)) return cache.get(traceFile);
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const local = resolveTraceFile(traceFile, run.info?.cwd, folders);
    // A file not found yet may appear later while a run is live: then only remember hits.
    if (!local && !run.live) cache.set(traceFile, undefined);
    if (local) {
      cache.set(traceFile, local);
      let originals = this.originals.get(run);
      if (!originals) this.originals.set(run, (originals = new Map()));
      // Unreadable, not a regular file or too big: edits are then only ever shifted, never reset.
      const text = readSourceFile(local, MAX_ORIGINAL_BYTES);
      if (text !== undefined) originals.set(fileKey(local), text.replace(/\r\n/g, '\n'));
    }
    return local;
  }

  private hintsOf(info: LineInfo): LineHint[] {
    const cur = this.current!;
    let hints = cur.hints.get(info);
    if (!hints) cur.hints.set(info, (hints = lineHints(cur.run, info, vscode.l10n.t)));
    return hints;
  }

  /** The annotated lines of a local file, at their current line numbers (1-based). */
  private linesFor(key: string): LineDecoration[] {
    const cur = this.current;
    const entry = cur?.files.get(key);
    if (!cur || !entry) return [];
    const edits = this.edits.get(cur.run)?.get(key) ?? [];
    const out: LineDecoration[] = [];
    for (const info of entry.file.lines.values()) {
      const line = edits.length ? mapTraceLine(info.line, edits) : info.line;
      if (line !== undefined) out.push({ line, info, hints: this.hintsOf(info) });
    }
    return out;
  }

  private lookup(doc: vscode.TextDocument, line1: number): { run: TraceRunView; info: LineInfo; tasks: () => TaskAwaitStats[]; traceFile: string } | undefined {
    const cur = this.current;
    if (!cur) return undefined;
    const key = fileKey(doc.uri.fsPath);
    const found = this.linesFor(key).find((l) => l.line === line1);
    const traceFile = cur.files.get(key)?.file.file;
    if (!found || traceFile === undefined) return undefined;
    return { run: cur.run, info: found.info, tasks: () => cur.annotator.tasksAt(traceFile, found.info.line), traceFile };
  }

  private renderEditors(): void {
    const visible = new Set(vscode.window.visibleTextEditors);
    for (const editor of this.decorated) {
      if (!visible.has(editor)) this.decorated.delete(editor);
    }
    for (const editor of visible) {
      if (editor.document.uri.scheme !== 'file') continue;
      const lines = this.current ? this.linesFor(fileKey(editor.document.uri.fsPath)) : [];
      if (lines.length) {
        this.decorations.apply(editor, lines);
        this.decorated.add(editor);
      } else if (this.decorated.has(editor)) {
        this.decorations.clear(editor);
        this.decorated.delete(editor);
      }
    }
  }

  private renderDiagnostics(): void {
    const cur = this.current;
    if (!cur) { this.clearDiagnostics(); return; }
    const fileLines = new Map<string, string[] | undefined>();
    const textOf = (uri: vscode.Uri): string[] | undefined => {
      const k = uri.fsPath;
      if (!fileLines.has(k)) {
        const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === k);
        let lines: string[] | undefined;
        if (open) lines = open.getText().split(/\r?\n/);
        else lines = readSourceFile(k)?.split(/\r?\n/);
        fileLines.set(k, lines);
      }
      return fileLines.get(k);
    };
    const lineRange = (uri: vscode.Uri, line: number): vscode.Range => {
      const text = textOf(uri)?.[line - 1];
      if (text === undefined) return new vscode.Range(line - 1, 0, line - 1, 0);
      const start = text.length - text.trimStart().length;
      return new vscode.Range(line - 1, start, line - 1, Math.max(start, text.trimEnd().length));
    };
    const place = (traceFile: string, line: number): { uri: vscode.Uri; line: number } | undefined => {
      const local = this.localPath(cur.run, traceFile);
      if (!local) return undefined;
      const edits = this.edits.get(cur.run)?.get(fileKey(local)) ?? [];
      const mapped = edits.length ? mapTraceLine(line, edits) : line;
      return mapped === undefined ? undefined : { uri: vscode.Uri.file(local), line: mapped };
    };
    const resolved: ResolvedProblem[] = [];
    for (const problem of cur.problems) {
      const at = place(problem.file, problem.line);
      if (!at) continue;
      const related = problem.related.flatMap((r) => {
        const p = place(r.file, r.line);
        return p ? [{ ...p, message: r.message }] : [];
      });
      resolved.push({ problem, uri: at.uri, line: at.line, related });
    }
    const key = resolved.map((r) => `${r.uri.fsPath}:${r.line}:${r.problem.message}:${r.related.length}`).join('\n');
    if (key === this.diagnosticsKey) return;
    this.diagnosticsKey = key;
    this.diagnostics.set(resolved, lineRange);
  }

  private clearDiagnostics(): void {
    this.diagnostics.clear();
    this.diagnosticsKey = '';
  }

  private onEdit(e: vscode.TextDocumentChangeEvent): void {
    // Traces only name Python files: edits elsewhere never need mapping.
    if (e.document.uri.scheme !== 'file' || e.document.languageId !== 'python' || e.contentChanges.length === 0) return;
    const key = fileKey(e.document.uri.fsPath);
    // Bottom-up, so each change's range is still valid after the ones applied before it.
    const changes = [...e.contentChanges].sort((a, b) => b.range.start.compareTo(a.range.start));
    const lineEdits = changes.map((c) => {
      const s = c.range.start.line;
      const newLen = s < e.document.lineCount ? e.document.lineAt(s).text.length : undefined;
      return lineEditOf(c.range, c.text.replace(/\r\n/g, '\n'), newLen);
    });
    let touched = false;
    for (const run of this.runs.runs) {
      let perFile = this.edits.get(run);
      if (!perFile) this.edits.set(run, (perFile = new Map()));
      const list = perFile.get(key);
      if (list) list.push(...lineEdits);
      else perFile.set(key, [...lineEdits]);
      if (run === this.current?.run && this.current.files.has(key)) touched = true;
    }
    // Back to the traced text (undo, revert): the annotations are exact again.
    this.resetIfOriginal(key, e.document, false);
    if (!touched) return;
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === e.document) this.decorations.apply(editor, this.linesFor(key));
    }
    if (!this.editTimer) {
      this.editTimer = setTimeout(() => { this.editTimer = undefined; this.renderDiagnostics(); }, MIN_LIVE_REFRESH_MS);
    }
  }

  /** Forgets the edits of runs whose traced text of this file equals the document's text. */
  private resetIfOriginal(key: string, doc: vscode.TextDocument, render = true): void {
    let text: string | undefined;
    let reset = false;
    for (const run of this.runs.runs) {
      const original = this.originals.get(run)?.get(key);
      const edits = this.edits.get(run)?.get(key);
      if (original === undefined || !edits?.length) continue;
      text ??= doc.getText().replace(/\r\n/g, '\n');
      if (text === original) {
        this.edits.get(run)!.delete(key);
        reset = true;
      }
    }
    if (reset && render && this.current?.files.has(key)) {
      this.renderEditors();
      this.renderDiagnostics();
    }
  }

  private testState(): unknown {
    const cur = this.current;
    const files: Record<string, unknown[]> = {};
    if (cur) {
      for (const [key, entry] of cur.files) {
        files[entry.uri.fsPath] = this.linesFor(key)
          .sort((a, b) => a.line - b.line)
          .map((l) => ({ line: l.line, gutter: primaryKind(l.info, l.hints), kinds: l.hints.map((h) => h.kind), texts: l.hints.map((h) => h.text) }));
      }
    }
    return {
      enabled: this.enabled,
      run: cur?.run.key ?? null,
      totalWait: cur?.ann.totalWait ?? 0,
      lastRefreshMs: this.lastRefreshMs,
      lastRefreshPhases: this.phases,
      decoratedEditors: [...this.decorated].map((e) => e.document.uri.fsPath),
      files,
      diagnostics: this.diagnostics.snapshot(),
    };
  }

  dispose(): void {
    for (const annotator of this.annotators.values()) annotator.dispose();
    this.annotators.clear();
    if (this.timer) clearTimeout(this.timer);
    if (this.editTimer) clearTimeout(this.editTimer);
    for (const d of this.disposables) d.dispose();
  }
}
