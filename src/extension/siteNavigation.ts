// Source sites of a trace -> editor locations. A trace recorded on another machine names files that
// do not exist here: they are mapped below the workspace folders (by the trace's cwd, else by the
// path's tail), or the user is told which file is missing.
import * as vscode from 'vscode';
import { plainText } from '../core/untrusted';
import * as fs from 'node:fs';
import type { TraceRunView } from '../core/modelTypes';
import { mapRecordedPath } from '../core/runPlan';
import type { TraceRuns } from './traceRuns';

export interface OpenSiteOptions {
  /** Keep focus where it is (e.g. selection in the tree moved with the keyboard). Default false. */
  preserveFocus?: boolean;
  /** Open as a preview editor. Default true. */
  preview?: boolean;
  viewColumn?: vscode.ViewColumn;
}

/** Per run: recorded file path -> local path (or null when nothing matched). */
const mapped = new WeakMap<TraceRunView, Map<string, string | null>>();

function localPath(run: TraceRunView, file: string): string | undefined {
  let cache = mapped.get(run);
  if (!cache) {
    cache = new Map();
    mapped.set(run, cache);
  }
  const hit = cache.get(file);
  if (hit !== undefined) return hit ?? undefined;
  let found: string | null = null;
  if (isFile(file)) found = file;
  else {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    for (const cand of mapRecordedPath(file, run.info?.cwd, folders)) {
      if (isFile(cand)) { found = cand; break; }
    }
  }
  cache.set(file, found);
  return found ?? undefined;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The editor location of a site (line converted to 0-based), or undefined when its file is not here. */
export function siteLocation(run: TraceRunView, siteId: number): vscode.Location | undefined {
  const site = run.sites.get(siteId);
  if (!site) return undefined;
  const file = localPath(run, site.file);
  if (!file) return undefined;
  const line = Math.max(0, site.line - 1);
  return new vscode.Location(vscode.Uri.file(file), new vscode.Range(line, 0, line, 0));
}

/** Opens a site's file at its line and selects the line. Returns false (after telling the user) when it cannot. */
export async function openSite(run: TraceRunView, siteId: number, options: OpenSiteOptions = {}): Promise<boolean> {
  const site = run.sites.get(siteId);
  if (!site) {
    void vscode.window.showWarningMessage(vscode.l10n.t('This trace has no source location #{0}.', plainText(siteId)));
    return false;
  }
  const loc = siteLocation(run, siteId);
  if (!loc) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t(
        '{0}:{1} is not on this machine. The trace was recorded in "{2}": open that project\'s folder in the workspace to jump to its sources.',
        plainText(site.file), site.line, plainText(run.info?.cwd ?? '?'),
      ),
    );
    return false;
  }
  try {
    const doc = await vscode.workspace.openTextDocument(loc.uri);
    const line = Math.min(loc.range.start.line, Math.max(0, doc.lineCount - 1));
    const text = doc.lineAt(line);
    // Select the code on the line (not its indentation) so the eye lands on the statement.
    const range = new vscode.Range(line, text.firstNonWhitespaceCharacterIndex, line, text.range.end.character);
    const editor = await vscode.window.showTextDocument(doc, {
      preserveFocus: options.preserveFocus ?? false,
      preview: options.preview ?? true,
      viewColumn: options.viewColumn,
      selection: new vscode.Range(range.start, range.start),
    });
    editor.selection = new vscode.Selection(range.start, range.start);
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return true;
  } catch (e) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('Could not open {0}: {1}', plainText(loc.uri.fsPath), plainText(e instanceof Error ? e.message : String(e))),
    );
    return false;
  }
}

export function registerSiteNavigation(context: vscode.ExtensionContext, runs: TraceRuns): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('asyncTrace.openSite', async (runKey?: unknown, siteId?: unknown, options?: OpenSiteOptions) => {
      // Accept (runKey, siteId) and a `{ runKey, siteId }` object (tree elements, webview messages).
      let key = runKey;
      let id = siteId;
      if (runKey && typeof runKey === 'object') {
        key = (runKey as { runKey?: unknown }).runKey;
        id = (runKey as { siteId?: unknown }).siteId;
      }
      const run = typeof key === 'string' ? runs.byKey(key) : runs.selected;
      if (!run || typeof id !== 'number') return false;
      return openSite(run, id, options);
    }),
    // A newly mapped workspace may resolve files that were missing before.
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      for (const r of runs.runs) mapped.delete(r);
    }),
  );
}
