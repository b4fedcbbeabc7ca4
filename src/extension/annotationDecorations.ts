// The fixed set of editor decoration types for source annotations, created once at activation;
// afterwards only setDecorations runs. Two families: one "line" type per line (gutter icon,
// overview ruler, line background of the most important kind) and one "hint" type per kind
// (the inline text after the line, coloured by kind / heat).
import * as vscode from 'vscode';
import type { Heat, HintKind, LineHint, LineInfo } from '../core/lineAnnotations';

type LineKind = 'await0' | 'await1' | 'await2' | 'await3' | 'timeoutFired' | 'timeoutCleared' | 'create' | 'block' | 'failure' | 'cancel';
type HintStyle = 'await0' | 'await1' | 'await2' | 'await3' | 'timeoutFired' | 'timeoutCleared' | 'create' | 'block' | 'failure' | 'cancel' | 'executor';

const LINE_KINDS: readonly LineKind[] = ['await0', 'await1', 'await2', 'await3', 'timeoutFired', 'timeoutCleared', 'create', 'block', 'failure', 'cancel'];
// Hint types in the order their texts should appear on a line (VS Code orders them by type creation).
const HINT_STYLES: readonly HintStyle[] = ['failure', 'block', 'timeoutFired', 'timeoutCleared', 'await3', 'await2', 'await1', 'await0', 'executor', 'cancel', 'create'];

const ICON: Record<LineKind, string> = {
  await0: 'gutter-await-0.svg', await1: 'gutter-await-1.svg', await2: 'gutter-await-2.svg', await3: 'gutter-await-3.svg',
  timeoutFired: 'gutter-timeout-fired.svg', timeoutCleared: 'gutter-timeout-cleared.svg', create: 'gutter-create.svg',
  block: 'gutter-block.svg', failure: 'gutter-failure.svg', cancel: 'gutter-cancel.svg',
};

const color = (id: string) => new vscode.ThemeColor(id);

export interface LineDecoration { line: number; info: LineInfo; hints: LineHint[] }

export class AnnotationDecorations implements vscode.Disposable {
  private readonly lineTypes = new Map<LineKind, vscode.TextEditorDecorationType>();
  private readonly hintTypes = new Map<HintStyle, vscode.TextEditorDecorationType>();

  constructor(extensionUri: vscode.Uri) {
    for (const kind of LINE_KINDS) {
      const heat = kind.startsWith('await') ? Number(kind.slice(5)) : -1;
      const options: vscode.DecorationRenderOptions = {
        gutterIconPath: vscode.Uri.joinPath(extensionUri, 'media', ICON[kind]),
        gutterIconSize: '80%',
        overviewRulerLane: vscode.OverviewRulerLane.Left,
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      };
      if (heat >= 1) {
        options.isWholeLine = true;
        options.backgroundColor = color(`asyncTrace.heat${heat}Background`);
        options.overviewRulerColor = color(`asyncTrace.heat${heat}`);
      } else if (kind === 'timeoutFired') {
        options.isWholeLine = true;
        options.backgroundColor = color('asyncTrace.timeoutLine');
        options.overviewRulerColor = color('asyncTrace.timeout');
      } else if (kind === 'block') {
        options.isWholeLine = true;
        options.backgroundColor = color('asyncTrace.blockLine');
        options.overviewRulerColor = color('asyncTrace.block');
      } else if (kind === 'failure') {
        options.overviewRulerColor = color('asyncTrace.failed');
      }
      this.lineTypes.set(kind, vscode.window.createTextEditorDecorationType(options));
    }
    const hintColor: Record<HintStyle, string> = {
      await0: 'asyncTrace.hintForeground', await1: 'asyncTrace.heat1', await2: 'asyncTrace.heat2', await3: 'asyncTrace.heat3',
      timeoutFired: 'asyncTrace.timeout', timeoutCleared: 'asyncTrace.hintForeground', create: 'asyncTrace.hintForeground',
      block: 'asyncTrace.block', failure: 'asyncTrace.failed', cancel: 'asyncTrace.cancelled', executor: 'asyncTrace.timelineExecutor',
    };
    for (const style of HINT_STYLES) {
      this.hintTypes.set(style, vscode.window.createTextEditorDecorationType({
        after: { color: color(hintColor[style]), margin: '0 0 0 2em', fontStyle: 'italic' },
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
      }));
    }
  }

  /** Draws the given lines (1-based, already mapped to the document's current lines) in an editor. */
  apply(editor: vscode.TextEditor, lines: readonly LineDecoration[]): void {
    const byLine = new Map<LineKind, vscode.DecorationOptions[]>();
    const byHint = new Map<HintStyle, vscode.DecorationOptions[]>();
    const doc = editor.document;
    for (const { line, info, hints } of lines) {
      if (line < 1 || line > doc.lineCount || hints.length === 0) continue;
      const text = doc.lineAt(line - 1);
      const range = new vscode.Range(line - 1, text.range.end.character, line - 1, text.range.end.character);
      push(byLine, primaryKind(info, hints), { range });
      for (const h of hints) {
        push(byHint, hintStyle(h.kind, h.heat), { range, renderOptions: { after: { contentText: h.text } } });
      }
    }
    for (const [kind, type] of this.lineTypes) editor.setDecorations(type, byLine.get(kind) ?? []);
    for (const [style, type] of this.hintTypes) editor.setDecorations(type, byHint.get(style) ?? []);
  }

  clear(editor: vscode.TextEditor): void {
    for (const type of this.lineTypes.values()) editor.setDecorations(type, []);
    for (const type of this.hintTypes.values()) editor.setDecorations(type, []);
  }

  dispose(): void {
    for (const type of this.lineTypes.values()) type.dispose();
    for (const type of this.hintTypes.values()) type.dispose();
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function hintStyle(kind: HintKind, heat: Heat | undefined): HintStyle {
  if (kind === 'await') return `await${heat ?? 0}` as HintStyle;
  if (kind === 'timeoutArmed') return 'timeoutCleared';
  return kind;
}

/** The gutter shows one icon per line: the most important thing that happened there. */
export function primaryKind(info: LineInfo, hints: readonly LineHint[]): LineKind {
  const has = (k: HintKind) => hints.some((h) => h.kind === k);
  if (has('failure')) return 'failure';
  if (has('block')) return 'block';
  if (has('timeoutFired')) return 'timeoutFired';
  if (info.await && info.await.heat >= 2) return `await${info.await.heat}` as LineKind;
  if (has('timeoutCleared') || has('timeoutArmed')) return 'timeoutCleared';
  if (has('cancel')) return 'cancel';
  if (has('await')) return `await${info.await?.heat ?? 0}` as LineKind;
  return 'create';
}
