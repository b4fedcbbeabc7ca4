// Trace files: open a recorded `.jsonl` trace as a run (streamed in chunks, with a report of what
// could not be read), save a run's trace elsewhere, remove runs. Opening works in untrusted
// workspaces: it only reads data.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { plainText } from '../core/untrusted';
import type { TraceRunView } from '../core/modelTypes';
import { issueLines, programLabel } from '../core/taskTreeModel';
import { TraceRun } from '../core/traceModel';
import { copyChildTraces, loadChildTraces } from './processFiles';
import { exportRunTo, isSaveFormat, pickSaveFormat, saveExtension, saveFilters, type SaveFormat } from './runExport';
import { contributeTestState } from './testHooks';
import type { TraceRuns } from './traceRuns';

const CHUNK = 1 << 20;
const TRACE_FILTERS = (): Record<string, string[]> => ({ [vscode.l10n.t('JSON Lines traces')]: ['jsonl', 'json'], [vscode.l10n.t('All files')]: ['*'] });

let fileRuns = 0;
/** What the last exports wrote, for end-to-end tests. */
const lastExports: Array<{ file: string; format: string; summary: string }> = [];
/** What the last load reported, for end-to-end tests. */
const lastLoads: Array<{ file: string; runKey?: string; warning?: string; error?: string }> = [];

/** The run a command was invoked for: a tree element / `{ runKey }` / key string, else the selected run. */
function targetRun(runs: TraceRuns, arg: unknown): TraceRunView | undefined {
  if (typeof arg === 'string') return runs.byKey(arg);
  if (arg && typeof arg === 'object') {
    const o = arg as { runKey?: unknown; run?: { key?: unknown } };
    if (typeof o.runKey === 'string') return runs.byKey(o.runKey);
    if (o.run && typeof o.run.key === 'string') return runs.byKey(o.run.key);
  }
  return runs.selected;
}

function isUri(x: unknown): x is vscode.Uri {
  return x instanceof vscode.Uri || (!!x && typeof x === 'object' && typeof (x as vscode.Uri).scheme === 'string' && typeof (x as vscode.Uri).path === 'string');
}

/** Streams a trace file into a new run. Throws when it cannot be read at all. */
export async function loadTraceFile(uri: vscode.Uri, token?: vscode.CancellationToken,
  onProgress?: (bytes: number, total: number) => void): Promise<TraceRun> {
  const key = `file-${++fileRuns}`;
  const run = new TraceRun(key, path.basename(uri.fsPath || uri.path), { live: false, sourcePath: uri.scheme === 'file' ? uri.fsPath : undefined });
  if (uri.scheme === 'file') {
    const total = (await fs.promises.stat(uri.fsPath)).size;
    let read = 0;
    const stream = fs.createReadStream(uri.fsPath, { highWaterMark: CHUNK });
    try {
      for await (const chunk of stream) {
        if (token?.isCancellationRequested) break;
        run.ingest(chunk as Buffer);
        read += (chunk as Buffer).length;
        onProgress?.(read, total);
      }
    } finally {
      stream.destroy();
    }
    await loadChildTraces(run, uri.fsPath, () => token?.isCancellationRequested === true);
  } else {
    // Remote or virtual file systems: no streaming API, read then feed in chunks anyway.
    const data = await vscode.workspace.fs.readFile(uri);
    for (let i = 0; i < data.length && !token?.isCancellationRequested; i += CHUNK) {
      run.ingest(data.subarray(i, i + CHUNK));
      onProgress?.(Math.min(data.length, i + CHUNK), data.length);
    }
  }
  run.finish();
  return run;
}

/** True when the run holds something to look at. */
function usable(run: TraceRunView): boolean {
  return run.tasks.size > 0 || run.info !== undefined;
}

async function openTraceFile(runs: TraceRuns, arg: unknown): Promise<TraceRunView | undefined> {
  let uris: vscode.Uri[] | undefined;
  if (isUri(arg)) uris = [vscode.Uri.from(arg)];
  else if (Array.isArray(arg) && arg.every(isUri)) uris = arg.map((u) => vscode.Uri.from(u));
  else if (typeof arg === 'string' && arg) uris = [vscode.Uri.file(arg)];
  else {
    uris = await vscode.window.showOpenDialog({
      canSelectMany: true,
      canSelectFolders: false,
      filters: TRACE_FILTERS(),
      openLabel: vscode.l10n.t('Open Trace'),
      title: vscode.l10n.t('Open Trace File'),
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
  }
  if (!uris?.length) return undefined;
  let last: TraceRunView | undefined;
  for (const uri of uris) last = (await openOne(runs, uri)) ?? last;
  return last;
}

async function openOne(runs: TraceRuns, uri: vscode.Uri): Promise<TraceRunView | undefined> {
  // A file's name can hold link syntax too: it is shown in messages.
  const name = plainText(path.basename(uri.fsPath || uri.path));
  const record: (typeof lastLoads)[number] = { file: uri.fsPath || uri.toString() };
  lastLoads.push(record);
  if (lastLoads.length > 20) lastLoads.shift();
  let run: TraceRun;
  try {
    run = await vscode.window.withProgress({
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('Loading trace {0}', name),
      cancellable: true,
    }, async (progress, token) => {
      let reported = 0;
      return loadTraceFile(uri, token, (bytes, total) => {
        const pct = total ? Math.floor((bytes / total) * 100) : 0;
        if (pct > reported) { progress.report({ increment: pct - reported }); reported = pct; }
      });
    });
  } catch (err) {
    record.error = vscode.l10n.t('Could not read {0}: {1}', name, plainText(err instanceof Error ? err.message : String(err)));
    void vscode.window.showErrorMessage(record.error);
    return undefined;
  }
  if (!usable(run)) {
    record.error = vscode.l10n.t('{0} holds no Async Trace events. Open a file written by "python -m asynctrace -o trace.jsonl".', name);
    void vscode.window.showErrorMessage(record.error);
    return undefined;
  }
  runs.add(run); // the newest run is selected
  record.runKey = run.key;
  const issues = issueLines(run, (m, ...a) => vscode.l10n.t(m, ...a));
  if (issues.length) {
    record.warning = vscode.l10n.t('{0} ({1}): {2}', name, programLabel(run), issues.join(' '));
    void vscode.window.showWarningMessage(record.warning);
  }
  return run;
}

async function saveTraceAs(runs: TraceRuns, arg: unknown): Promise<vscode.Uri | undefined> {
  const run = targetRun(runs, arg);
  if (!run) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No run to save: trace a program or open a trace file first.'));
    return undefined;
  }
  // Tests and scripts pass `{ runKey, target, format }` to skip the dialogs (no format: JSONL).
  const opts = (arg && typeof arg === 'object') ? arg as { target?: unknown; format?: unknown } : {};
  const given = opts.target;
  const format: SaveFormat | undefined = isSaveFormat(opts.format) ? opts.format : isUri(given) ? 'jsonl' : await pickSaveFormat(run);
  if (!format) return undefined;
  const source = (run as { sourcePath?: string }).sourcePath;
  if (format === 'jsonl' && (!source || !fs.existsSync(source))) {
    void vscode.window.showErrorMessage(vscode.l10n.t('The trace of {0} is not on disk, so it cannot be saved.', programLabel(run)));
    return undefined;
  }
  const base = programLabel(run).replace(/^-m /, '').replace(/\.py$/, '').replace(/[^\w.-]+/g, '_') || 'trace';
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = isUri(given) ? vscode.Uri.from(given) : await vscode.window.showSaveDialog({
    filters: saveFilters(format),
    saveLabel: vscode.l10n.t('Save Trace'),
    title: vscode.l10n.t('Save Trace As'),
    defaultUri: folder ? vscode.Uri.joinPath(folder, `${base}${saveExtension(format)}`) : undefined,
  });
  if (!target) return undefined;
  if (format !== 'jsonl') {
    try {
      lastExports.push({ file: target.fsPath || target.toString(), format, summary: await exportRunTo(run, format, target) });
      if (lastExports.length > 20) lastExports.shift();
    } catch (err) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Could not save the trace: {0}', err instanceof Error ? err.message : String(err)));
      return undefined;
    }
    if (run.live) void vscode.window.showInformationMessage(vscode.l10n.t('Saved the trace written so far; the run is still going.'));
    return target;
  }
  if (!source) return undefined;
  if (target.scheme === 'file' && path.resolve(target.fsPath) === path.resolve(source)) return target;
  try {
    // A live run's file is still growing: this copies what has been written so far.
    if (target.scheme === 'file') {
      await fs.promises.copyFile(source, target.fsPath);
      await copyChildTraces(source, target.fsPath);
    } else await vscode.workspace.fs.writeFile(target, await fs.promises.readFile(source));
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('Could not save the trace: {0}', err instanceof Error ? err.message : String(err)));
    return undefined;
  }
  if (run.live) void vscode.window.showInformationMessage(vscode.l10n.t('Saved the trace written so far; the run is still going.'));
  return target;
}

async function removeRun(runs: TraceRuns, arg: unknown): Promise<void> {
  const run = targetRun(runs, arg);
  if (!run) return;
  if (run.live) {
    const stop = vscode.l10n.t('Stop and Remove');
    const pick = await vscode.window.showWarningMessage(vscode.l10n.t('{0} is still running.', programLabel(run)), { modal: true }, stop);
    if (pick !== stop) return;
    await vscode.commands.executeCommand('asyncTrace.stop', run.key);
  }
  runs.remove(run);
}

async function clearRuns(runs: TraceRuns): Promise<void> {
  if (runs.runs.some((r) => r.live)) {
    const stop = vscode.l10n.t('Stop and Clear');
    const pick = await vscode.window.showWarningMessage(vscode.l10n.t('A traced program is still running.'), { modal: true }, stop);
    if (pick !== stop) return;
    for (const r of runs.runs.filter((x) => x.live)) await vscode.commands.executeCommand('asyncTrace.stop', r.key);
  }
  runs.clear();
}

export function registerTraceFiles(context: vscode.ExtensionContext, runs: TraceRuns): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('asyncTrace.openTraceFile', (arg?: unknown) => openTraceFile(runs, arg)),
    vscode.commands.registerCommand('asyncTrace.saveTraceAs', (arg?: unknown, target?: unknown, format?: unknown) =>
      saveTraceAs(runs, isUri(target) ? { runKey: targetRun(runs, arg)?.key, target, format } : arg)),
    vscode.commands.registerCommand('asyncTrace.removeRun', (arg?: unknown) => removeRun(runs, arg)),
    vscode.commands.registerCommand('asyncTrace.clear', () => clearRuns(runs)),
  );
  contributeTestState('traceFiles', () => ({ loads: lastLoads, exports: lastExports }));
}
