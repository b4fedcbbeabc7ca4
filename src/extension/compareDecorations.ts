// The comparison's hints in the source ("await x3 total 1.20 s → 410 ms, −66 %") on the await lines
// of the later run, in every visible editor of a file it names. A fixed set of three decoration
// types (faster, slower, new or unchanged), created once; afterwards only setDecorations.
import * as vscode from 'vscode';
import { siteHint } from '../core/compareText';
import type { SiteDelta } from '../core/runCompare';
import { fileKey, resolveTraceFile } from './sourceAnnotations';
import type { ComparisonState } from './runComparison';

type Style = 'faster' | 'slower' | 'other';
/** Changes smaller than this (either way) are shown as unchanged. */
const SAME_FRACTION = 0.05;

function styleOf(d: SiteDelta): Style {
  if (d.ratio === undefined) return 'other';
  return d.ratio < 1 - SAME_FRACTION ? 'faster' : d.ratio > 1 + SAME_FRACTION ? 'slower' : 'other';
}

export class CompareDecorations implements vscode.Disposable {
  private readonly types: Record<Style, vscode.TextEditorDecorationType>;
  private readonly disposables: vscode.Disposable[] = [];
  /** Local file key -> line (1-based) -> site delta. */
  private byFile = new Map<string, Map<number, SiteDelta>>();
  /** What the last apply drew, for tests: file, line, text. */
  lastApplied: Array<{ file: string; line: number; text: string; style: Style }> = [];

  constructor(private readonly state: ComparisonState) {
    const make = (color: string): vscode.TextEditorDecorationType => vscode.window.createTextEditorDecorationType({
      after: { color: new vscode.ThemeColor(color), margin: '0 0 0 2em', fontStyle: 'italic' },
      rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    });
    this.types = { faster: make('asyncTrace.compareFaster'), slower: make('asyncTrace.compareSlower'), other: make('asyncTrace.hintForeground') };
    this.disposables.push(
      state.onDidChange(() => { this.rebuild(); this.applyAll(); }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.applyAll()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        // Edited files lose the hints: their lines no longer match the run.
        const key = fileKey(e.document.uri.fsPath);
        if (e.contentChanges.length && this.byFile.delete(key)) this.applyAll();
      }),
    );
  }

  private rebuild(): void {
    this.byFile = new Map();
    const c = this.state.current;
    if (!c) return;
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const cwd = c.after.info?.cwd;
    const resolved = new Map<string, string | undefined>();
    for (const d of c.result.sites) {
      if (!d.after) continue; // a site gone from the later run has no line to show it on
      let local = resolved.get(d.site.file);
      if (!resolved.has(d.site.file)) resolved.set(d.site.file, (local = resolveTraceFile(d.site.file, cwd, folders)));
      if (!local) continue;
      const key = fileKey(local);
      const lines = this.byFile.get(key) ?? new Map<number, SiteDelta>();
      this.byFile.set(key, lines);
      lines.set(d.site.line, d);
    }
  }

  private applyAll(): void {
    this.lastApplied = [];
    for (const editor of vscode.window.visibleTextEditors) this.apply(editor);
  }

  private apply(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const lines = doc.uri.scheme === 'file' ? this.byFile.get(fileKey(doc.uri.fsPath)) : undefined;
    const out: Record<Style, vscode.DecorationOptions[]> = { faster: [], slower: [], other: [] };
    const t = (m: string, ...a: Array<string | number>) => vscode.l10n.t(m, ...a);
    for (const [line, d] of lines ?? []) {
      if (line < 1 || line > doc.lineCount) continue;
      const end = doc.lineAt(line - 1).range.end;
      const text = siteHint(d, t);
      const style = styleOf(d);
      out[style].push({ range: new vscode.Range(end, end), renderOptions: { after: { contentText: text } } });
      this.lastApplied.push({ file: doc.uri.fsPath, line, text, style });
    }
    for (const s of Object.keys(out) as Style[]) editor.setDecorations(this.types[s], out[s]);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    for (const type of Object.values(this.types)) type.dispose();
  }
}
