// The formats "Save Trace As..." offers: the Async Trace JSONL itself (a copy of the recorded
// file), Perfetto protobuf (gzip) and Chrome Trace Event JSON, the latter two written by the core
// exporters (core/exportFormats.ts) through the same file writer as the CLI's `export`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExportFormat } from '../core/exportFormats';
import type { TraceRunView } from '../core/modelTypes';
import { programLabel } from '../core/taskTreeModel';
import { exportExtension, writeExport } from '../cli/traceFileIO';

export type SaveFormat = 'jsonl' | ExportFormat;

const t = (m: string, ...a: Array<string | number>) => vscode.l10n.t(m, ...a);

export function isSaveFormat(x: unknown): x is SaveFormat {
  return x === 'jsonl' || x === 'perfetto' || x === 'chrome';
}

/** The save dialog's filter and the default file name ending of each format. */
export function saveFilters(format: SaveFormat): Record<string, string[]> {
  switch (format) {
    case 'perfetto': return { [t('Perfetto trace (protobuf, gzip)')]: ['gz'], [t('All files')]: ['*'] };
    case 'chrome': return { [t('Chrome Trace Event JSON')]: ['json'], [t('All files')]: ['*'] };
    default: return { [t('JSON Lines traces')]: ['jsonl', 'json'], [t('All files')]: ['*'] };
  }
}

export function saveExtension(format: SaveFormat): string {
  return format === 'jsonl' ? '.trace.jsonl' : exportExtension(format);
}

/** Asks which format to save in; undefined when the user dismisses the pick. */
export async function pickSaveFormat(run: TraceRunView): Promise<SaveFormat | undefined> {
  type Item = vscode.QuickPickItem & { format: SaveFormat };
  const items: Item[] = [
    { format: 'jsonl', label: t('Async Trace JSONL'), description: '.jsonl', detail: t('The recorded trace as is: opens again here and in the CLI.') },
    { format: 'perfetto', label: t('Perfetto protobuf (gzip)'), description: '.perfetto-trace.gz', detail: t('For ui.perfetto.dev: one track per task under its parent, flows, instants. Best for big runs.') },
    { format: 'chrome', label: t('Chrome Trace JSON'), description: '.chrome-trace.json', detail: t('Trace Event Format: chrome://tracing, Perfetto and other viewers.') },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: t('Save {0} as', programLabel(run)), placeHolder: t('Format') });
  return pick?.format;
}

/** Writes `run` as Perfetto or Chrome JSON to `target`, with progress. Returns a one-line summary. */
export async function exportRunTo(run: TraceRunView, format: ExportFormat, target: vscode.Uri): Promise<string> {
  const local = target.scheme === 'file';
  const file = local ? target.fsPath : path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'async-trace-')), `export${exportExtension(format)}`);
  try {
    const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Exporting {0}', programLabel(run)) },
      () => writeExport(run, format, file));
    if (!local) await vscode.workspace.fs.writeFile(target, await fs.promises.readFile(file));
    return t('{0} tracks, {1} slices, {2} flows, {3} instants', r.tracks, r.slices, r.flows, r.instants);
  } finally {
    if (!local) await fs.promises.rm(path.dirname(file), { recursive: true, force: true });
  }
}
