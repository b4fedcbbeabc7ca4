// One wait opened from elsewhere (an outlier of an await line's hover): the chart zooms to it with
// some context, selects its task and outlines the wait until another task is selected or Escape.
import type { GanttStats } from '../core/ganttProtocol';
import { formatDuration } from '../core/format';
import { formatTime } from '../core/ganttLayout';
import { announcer } from './ganttDom';
import { P } from './ganttPalette';
import { requestDraw, rowY } from './ganttDraw';
import { clampView, saveState, scrollToTask, select, userMoved } from './ganttNavigation';
import { ctx } from './ganttDom';
import { store, ROW_H, t, view, chartW } from './ganttView';

let focus: { task: number; from: number; to: number } | null = null;

export function revealWait(task: number, from: number, to: number): void {
  if (!store.index.has(task)) return;
  // Selected as a click would (the Tasks tree follows).
  select(task, true);
  const span = Math.max(1, to - from);
  const pad = Math.max(span * 0.25, 1000);
  view.upp = (span + 2 * pad) / chartW();
  clampView();
  view.t0 = from - pad;
  scrollToTask(task);
  userMoved();
  saveState();
  focus = { task, from, to };
  const idx = store.index.get(task)!;
  announcer.textContent = t('waitShown', formatDuration(to - from), store.name[idx], formatTime(from, view.upp));
  requestDraw();
}

export function clearFocusWait(): boolean {
  if (!focus) return false;
  focus = null;
  requestDraw();
  return true;
}

/** Selecting another task drops the mark. */
export function focusWaitFollowsSelection(): void {
  if (focus && view.selected !== focus.task) focus = null;
}

export function drawFocusWait(rows: { rowOf: Map<number, number> }): void {
  if (!focus) return;
  const row = rows.rowOf.get(focus.task);
  if (row === undefined) return;
  const mid = rowY(row);
  const xa = Math.max(view.labelW - 2, (focus.from - view.t0) / view.upp + view.labelW);
  const xb = Math.min(view.width + 2, (focus.to - view.t0) / view.upp + view.labelW);
  if (xb < view.labelW || xa > view.width) return;
  ctx.strokeStyle = P.focus;
  ctx.lineWidth = 2;
  ctx.strokeRect(xa - 2, mid - ROW_H / 2 + 1, Math.max(2, xb - xa) + 4, ROW_H - 2);
  ctx.lineWidth = 1;
}

export function focusWaitStats(): GanttStats['focusWait'] {
  return focus && { ...focus };
}
