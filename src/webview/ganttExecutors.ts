// Executor lanes of the timeline: one lane per worker thread (or process pool) below the task lanes,
// each work item a bar from when a worker took it to when it finished (its queued time a thin bar
// before), linked by an arrow from the task that submitted and awaits it; hover text describes it.
import type { ExecEntry } from '../core/ganttProtocol';
import { formatDuration } from '../core/format';
import { formatTime } from '../core/ganttLayout';
import { ctx } from './ganttDom';
import { P } from './ganttPalette';
import { arrow, clampY, rowY } from './ganttDraw';
import type { Hit } from './ganttHitTest';
import { siteText } from './ganttHitTest';
import { store, ROW_H, t, view, xOf, tOf } from './ganttView';

/** Rows of the whole chart: task rows, then one per executor lane. */
export function totalRows(taskRows: number): number {
  return taskRows + store.execLanes.length;
}

function items(lane: number): ExecEntry[] {
  const out: ExecEntry[] = [];
  for (const id of store.execLanes[lane]?.items ?? []) { const x = store.execs.get(id); if (x) out.push(x); }
  return out;
}

export function drawExecLane(lane: number, y: number, tL: number, tR: number): void {
  const mid = y + ROW_H / 2;
  const barH = ROW_H - 8;
  ctx.fillStyle = P.lane;
  ctx.globalAlpha = 0.5;
  ctx.fillRect(view.labelW, mid - 0.5, view.width - view.labelW, 1);
  ctx.globalAlpha = 1;
  for (const x of items(lane)) {
    const end = store.execEnd(x);
    if (end < tL || x.submitted > tR) continue;
    const from = x.started ?? x.submitted;
    if (x.started !== null && x.started > x.submitted) {
      // Queued: submitted, no worker free yet.
      ctx.globalAlpha = 0.45; ctx.fillStyle = P.exec;
      ctx.fillRect(xOf(x.submitted), mid - 1.5, Math.max(1, (x.started - x.submitted) / view.upp), 3);
      ctx.globalAlpha = 1;
    }
    if (x.state === 'cancelled' && x.started === null) {
      ctx.strokeStyle = P.cancelled; ctx.lineWidth = 2;
      const cx = xOf(end);
      ctx.beginPath(); ctx.moveTo(cx - 3, mid - 3); ctx.lineTo(cx + 3, mid + 3); ctx.moveTo(cx + 3, mid - 3); ctx.lineTo(cx - 3, mid + 3); ctx.stroke();
      ctx.lineWidth = 1;
      continue;
    }
    ctx.fillStyle = x.error ? P.failed : P.exec;
    ctx.fillRect(xOf(from), mid - barH / 2, Math.max(2, (end - from) / view.upp), barH);
    view.slicesDrawn++;
  }
}

export function drawExecLabel(lane: number, y: number): void {
  const l = store.execLanes[lane];
  if (!l) return;
  // A small square "chip": work outside the event loop.
  const gx = 22, gy = y + ROW_H / 2;
  ctx.fillStyle = P.exec;
  ctx.fillRect(gx - 4, gy - 4, 8, 8);
  ctx.fillStyle = P.fg;
  const what = l.pool === 'process' ? t('workerProcess') : t('workerThread');
  ctx.fillText(`${l.name} · ${what}`, 32, gy + 1);
}

/** Arrows from the awaiting task (at submission) to its items' bars: all when few, else the focused ones. */
export function drawExecLinks(rows: { count: number; rowOf: Map<number, number> }, r0: number, r1: number): void {
  if (!store.execs.size) return;
  const few = store.taskCount <= 40 && store.execs.size <= 200;
  const hoverItem = view.hover?.item;
  for (const x of store.execs.values()) {
    const lane = store.execLaneOf.get(x.id);
    if (lane === undefined) continue;
    const strong = hoverItem === x.id || (x.task >= 0 && (x.task === view.selected || (view.hover !== null && view.hover.task === x.task && view.hover.item === undefined)));
    if (!few && !strong) continue;
    const tRow = rows.rowOf.get(x.task);
    if (tRow === undefined) continue;
    const eRow = rows.count + lane;
    if ((tRow < r0 && eRow < r0) || (tRow >= r1 && eRow >= r1)) continue;
    const xa = xOf(x.submitted), xb = xOf(x.started ?? x.submitted);
    if (Math.max(xa, xb) >= view.labelW && Math.min(xa, xb) <= view.width) {
      arrow(xa, clampY(rowY(tRow) + 5), Math.max(xb, xa + 2), clampY(rowY(eRow) - 5), P.exec, strong ? 0.95 : 0.5);
    }
    if (x.end !== null) {
      // ... and back: the item's end wakes the awaiting task.
      const xe = xOf(x.end);
      if (xe >= view.labelW && xe <= view.width) arrow(xe, clampY(rowY(eRow) - 5), xe + 2, clampY(rowY(tRow) + 5), P.exec, strong ? 0.95 : 0.5);
    }
  }
}

/** What the item under the pointer on executor lane `lane` is, with its hover text. */
export function hitExec(lane: number, row: number, x: number): Hit | null {
  const l = store.execLanes[lane];
  if (!l) return null;
  const base = { row, task: -1, targets: [] as number[] };
  if (x < view.labelW) {
    const what = l.pool === 'process' ? t('workerProcess') : t('workerThread');
    return { ...base, kind: 'label', start: 0, end: 0, site: -1, lines: [`${l.name} · ${what}`, t('execLaneItems', l.items.length)] };
  }
  const tm = tOf(x);
  const tol = 3 * view.upp;
  for (const it of items(lane)) {
    const end = store.execEnd(it);
    if (tm < it.submitted - tol || tm > end + tol) continue;
    const lines = [execTitle(it)];
    const by = it.task >= 0 ? store.index.get(it.task) : undefined;
    if (by !== undefined) lines.push(t('execAwaitedBy', store.name[by]));
    if (it.site >= 0) lines.push(`${t('execSubmittedAt')}: ${siteText(it.site)}`);
    if (it.def >= 0) lines.push(`${t('execDefinedAt')}: ${siteText(it.def)}`);
    lines.push(`${t('start')}: ${formatTime(it.started ?? it.submitted, view.upp)}`);
    if (it.started !== null) lines.push(`${t('execQueued')}: ${formatDuration(it.started - it.submitted)}`);
    lines.push(`${t('execRan')}: ${formatDuration(end - (it.started ?? it.submitted))}${it.end === null ? '+' : ''}`);
    if (it.state === 'cancelled') lines.push(t('cancelled'));
    if (it.error) lines.push(`${t('error')}: ${it.error}`);
    return { ...base, task: it.task, item: it.id, kind: 'exec', start: it.submitted, end, site: it.site >= 0 ? it.site : it.def, lines };
  }
  return null;
}

function execTitle(x: ExecEntry): string {
  return x.thread !== null ? t('execInThread', x.func, x.thread) : x.pool === 'process' ? t('execInProcess', x.func, x.executor) : t('execIn', x.func, x.executor);
}

/** The text of a task's wait on item `id`: "blocking_io() in a worker thread (asyncio_0), 300 ms". */
export function execWaitText(id: number): string {
  const x = store.execs.get(id);
  if (!x) return t('wait.executor');
  const dur = formatDuration(store.execEnd(x) - (x.started ?? x.submitted)) + (x.end === null ? '+' : '');
  return `${execTitle(x)}, ${dur}${x.error ? `, ${x.error}` : ''}`;
}
