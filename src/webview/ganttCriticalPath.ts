// The critical path on the timeline: its segments drawn over the dimmed chart (runs, ready gaps and
// waits outlined in the path colour), the links where the chain moves from one task to another
// (a wait handed to the awaited task, its end waking the waiter), a bar naming it with a close
// button, and its stages in the accessible summary. Escape or the toolbar button clears it.
import { PATH_STRIDE, type GanttStats, type PathOverlay } from '../core/ganttProtocol';
import { el, app, toolbar, iconButton, announcer, btnLegend, ctx } from './ganttDom';
import { P } from './ganttPalette';
import { arrow, clampY, requestDraw, rowY } from './ganttDraw';
import { store, ROW_H, bodyTop, t, vscode, view, chartW, chartH, xOf } from './ganttView';

interface PathState {
  overlay: PathOverlay;
  /** Tasks on the path, and per task its segment indices (for hover). */
  tasks: Set<number>;
  byTask: Map<number, number[]>;
  drawn: number;
  links: number;
}

let path: PathState | null = null;

// Created by installPath (the DOM module must be evaluated first).
let btnPath: HTMLButtonElement;
let bar: HTMLDivElement;
let barTitle: HTMLSpanElement;
let stageList: HTMLOListElement;
let barClose: HTMLButtonElement;

export function installPath(): void {
  btnPath = iconButton(toolbar, 'pulse', () => togglePath());
  // Next to the legend button, before the cursor readout.
  toolbar.insertBefore(btnPath, btnLegend);
  bar = el('div', 'path-bar');
  bar.id = 'gantt-critical-path';
  bar.setAttribute('role', 'region');
  bar.hidden = true;
  el('span', 'path-swatch', bar).setAttribute('aria-hidden', 'true');
  barTitle = el('span', 'path-title', bar);
  stageList = el('ol', 'visually-hidden', bar);
  barClose = iconButton(bar, 'close', () => clearPath(true));
  // Under the toolbar, above the chart.
  app.insertBefore(bar, toolbar.nextSibling);
}

export function applyPathStrings(): void {
  if (!btnPath) return;
  btnPath.title = t('criticalPathButton');
  btnPath.setAttribute('aria-label', t('criticalPathButton'));
  btnPath.setAttribute('aria-pressed', String(path !== null));
  bar.setAttribute('aria-label', t('criticalPath'));
  barClose.title = t('criticalPathClear');
  barClose.setAttribute('aria-label', t('criticalPathClear'));
}

export function hasPath(): boolean { return path !== null; }

/** Whether task `id` is on the highlighted path (true when none is shown: nothing is dimmed). */
export function onPath(id: number): boolean { return path === null || path.tasks.has(id); }

function togglePath(): void {
  if (path) { clearPath(true); return; }
  // A process's row selected: the run's path (a process is no task).
  vscode.postMessage({ type: 'criticalPath', taskId: view.selected !== null && store.isGroup(view.selected) ? null : view.selected });
}

export function clearPath(notify: boolean): void {
  if (!path) return;
  path = null;
  bar.hidden = true;
  stageList.textContent = '';
  btnPath.setAttribute('aria-pressed', 'false');
  if (notify) vscode.postMessage({ type: 'criticalPath', taskId: null, clear: true });
  announcer.textContent = t('criticalPathCleared');
  requestDraw();
}

export function setPath(overlay: PathOverlay | null): void {
  if (!overlay) { clearPath(false); return; }
  const tasks = new Set<number>();
  const byTask = new Map<number, number[]>();
  const s = overlay.segments;
  for (let i = 0; i + PATH_STRIDE <= s.length; i += PATH_STRIDE) {
    const id = s[i + 1];
    tasks.add(id);
    let list = byTask.get(id);
    if (!list) byTask.set(id, (list = []));
    list.push(i);
  }
  tasks.add(overlay.task);
  path = { overlay, tasks, byTask, drawn: 0, links: 0 };
  // Every task of the chain gets a row.
  for (const id of tasks) store.revealRow(id);
  barTitle.textContent = overlay.title;
  bar.title = overlay.stages.join('\n');
  stageList.textContent = '';
  for (const line of overlay.stages) el('li', undefined, stageList).textContent = line;
  bar.hidden = false;
  btnPath.setAttribute('aria-pressed', 'true');
  announcer.textContent = overlay.title;
  requestDraw();
}

/** Dims the chart, then draws the path's segments and links on top (inside the chart's clip). */
export function drawPath(rows: { rowOf: Map<number, number> }): void {
  if (!path) return;
  ctx.globalAlpha = 0.6;
  ctx.fillStyle = P.bg;
  ctx.fillRect(view.labelW, bodyTop(), chartW(), chartH());
  ctx.globalAlpha = 1;
  const s = path.overlay.segments;
  const barH = ROW_H - 8;
  const waitH = Math.round(ROW_H * 0.4);
  const xL = view.labelW - 2, xR = view.width + 2;
  let drawn = 0, links = 0;
  let prevTask = -1, prevRow: number | undefined;
  ctx.lineWidth = 1.5;
  for (let i = 0; i + PATH_STRIDE <= s.length; i += PATH_STRIDE) {
    const kind = s[i], id = s[i + 1], from = s[i + 2], to = s[i + 3], wait = s[i + 4];
    const row = rows.rowOf.get(id);
    // Where the chain moves to another task: the link (wait handed over, or an end waking the waiter).
    if (prevTask >= 0 && id !== prevTask && row !== undefined && prevRow !== undefined) {
      const x = xOf(from);
      if (x >= view.labelW && x <= view.width) { arrow(x, clampY(rowY(prevRow)), x + 1, clampY(rowY(row)), P.path, 1); links++; }
    }
    prevTask = id;
    prevRow = row;
    if (row === undefined) continue;
    const xa = Math.max(xOf(from), xL), xb = Math.min(xOf(to), xR);
    if (xb < view.labelW || xa > view.width) continue;
    const mid = rowY(row);
    if (mid < bodyTop() - ROW_H || mid > view.height + ROW_H) continue;
    const h = kind === 0 ? barH : waitH;
    const w = Math.max(1, xb - xa);
    ctx.fillStyle = kind === 0 ? P.running : kind === 1 ? P.ready : P.wait[wait] ?? P.waiting;
    ctx.fillRect(xa, mid - h / 2, w, h);
    ctx.strokeStyle = P.path;
    ctx.strokeRect(xa - 1, mid - h / 2 - 1.5, w + 2, h + 3);
    drawn++;
  }
  ctx.lineWidth = 1;
  path.drawn = drawn;
  path.links = links;
}

/** A line for the hover of task `id` at time `tm`, when that moment is on the path. */
export function pathHoverLine(id: number, tm: number): string | undefined {
  const list = path?.byTask.get(id);
  if (!path || !list) return undefined;
  const s = path.overlay.segments;
  for (const i of list) if (tm >= s[i + 2] && tm <= s[i + 3]) return t('onCriticalPath');
  return undefined;
}

export function pathStats(): GanttStats['criticalPath'] {
  if (!path) return null;
  return { task: path.overlay.task, tasks: [...path.tasks], segments: path.overlay.segments.length / PATH_STRIDE, drawn: path.drawn, links: path.links };
}

/** The legend's swatch of the path: an outlined bar. */
export function paintPathSwatch(g: CanvasRenderingContext2D): void {
  g.fillStyle = P.running; g.fillRect(2, 3, 24, 6);
  g.strokeStyle = P.path; g.lineWidth = 1.5; g.strokeRect(1, 2, 26, 8);
}
