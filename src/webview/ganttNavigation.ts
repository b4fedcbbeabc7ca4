// Moving around the timeline: zoom, pan, follow, selection, search, and saving the view state.
import type { GanttViewState } from '../core/ganttProtocol';
import { searchBox, searchCount, btnFollow, vscroll, vspacer, announcer } from './ganttDom';
import { requestDraw } from './ganttDraw';
import { totalRows } from './ganttExecutors';
import { taskTitle, stateOf } from './ganttHitTest';
import { vscode, store, ROW_H, bodyTop, t, view, chartW, chartH, tOf } from './ganttView';

// ---------------------------------------------------------------- navigation

export function clampView(): void {
  const span = Math.max(1, store.maxTs - Math.min(store.minTs, store.maxTs));
  view.upp = Math.min(Math.max(view.upp, 0.001), (span * 20) / chartW());
}

export function fitAll(): void {
  const lo = Number.isFinite(store.minTs) ? store.minTs : 0;
  const hi = Math.max(store.maxTs, store.now, lo + 1);
  const span = hi - lo;
  view.upp = (span * 1.04) / chartW();
  view.t0 = lo - span * 0.02;
  requestDraw();
  saveState();
}

export function zoomAt(factor: number, px: number): void {
  const tm = view.t0 + px * view.upp;
  view.upp *= factor;
  clampView();
  view.t0 = tm - px * view.upp;
  userMoved();
  requestDraw();
}

export function panBy(dxPx: number): void {
  view.t0 += dxPx * view.upp;
  userMoved();
  requestDraw();
}

export function userMoved(): void {
  if (view.follow && store.live) setFollow(false);
  saveState();
}

export function setFollow(on: boolean): void {
  view.follow = on;
  btnFollow.setAttribute('aria-pressed', String(on));
  btnFollow.classList.toggle('on', on);
  if (on) followNow();
  saveState();
}

/** Keeps "now" in view while live: the whole run while it fits, else the latest part at this zoom. */
export function followNow(): void {
  if (!store.live || !view.follow) return;
  const lo = Number.isFinite(store.minTs) ? store.minTs : 0;
  const now = Math.max(store.now, store.maxTs);
  if ((now - lo) * 1.05 <= chartW() * view.upp * 4 || !view.fitted) {
    fitAll();
    view.fitted = true;
  } else {
    view.t0 = now - chartW() * view.upp * 0.95;
  }
  requestDraw();
}

export function zoomToTask(id: number): void {
  const idx = store.index.get(id);
  if (idx === undefined) return;
  const a = store.created[idx];
  const b = Math.max(store.laneEnd(idx), a + 1);
  const span = b - a;
  view.upp = (span * 1.1) / chartW();
  clampView();
  view.t0 = a - span * 0.05;
  scrollToTask(id);
  userMoved();
  requestDraw();
}

export function scrollToTask(id: number): void {
  store.revealRow(id);
  const rows = store.rows();
  const row = rows.rowOf.get(id);
  if (row === undefined) return;
  const y = row * ROW_H;
  if (y < view.scrollTop || y + ROW_H > view.scrollTop + chartH()) view.scrollTop = Math.max(0, y - chartH() / 2);
  syncScrollbar();
  // Bring the task's life into view without changing the zoom.
  const idx = store.index.get(id)!;
  const a = store.created[idx], b = store.laneEnd(idx);
  const l = tOf(view.labelW), r = tOf(view.width);
  if (b < l || a > r) { view.t0 = a - chartW() * view.upp * 0.1; userMoved(); }
}

export function select(id: number | null, notify: boolean, openSite = -1): void {
  view.selected = id;
  if (id !== null) {
    scrollToTask(id);
    const idx = store.index.get(id);
    const group = store.isGroup(id);
    if (idx !== undefined) announcer.textContent = group ? `${store.name[idx]} · ${store.coro[idx]}` : `${taskTitle(idx)}, ${stateOf(idx)}`;
    // A process's row: the tree reveals that process's row (by its key), not a task.
    const process = group ? store.groups.get(id)!.key : undefined;
    if (notify) vscode.postMessage(process !== undefined ? { type: 'selectProcess', process } : { type: 'select', taskId: id });
    if (openSite >= 0) vscode.postMessage({ type: 'open', taskId: id, siteId: openSite });
  }
  requestDraw();
}

export function moveSelection(delta: number): void {
  const rows = store.rows();
  if (!rows.count) return;
  let r = view.selected !== null ? rows.rowOf.get(view.selected) ?? -1 : -1;
  r = Math.max(0, Math.min(rows.count - 1, r < 0 ? 0 : r + delta));
  select(rows.ids[r], true);
}

let searchMatches: number[] = [];
let searchPos = -1;

export function runSearch(next: boolean): void {
  const q = searchBox.value.trim().toLowerCase();
  if (!q) { searchMatches = []; searchPos = -1; searchCount.textContent = ''; return; }
  if (!next || !searchMatches.length) {
    searchMatches = [];
    // In lane order, so Enter walks down the chart.
    const rows = store.rows();
    searchMatches = store.search(q).map((i) => store.id[i]);
    searchMatches.sort((a, b) => (rows.rowOf.get(a) ?? rows.count + a) - (rows.rowOf.get(b) ?? rows.count + b));
    searchPos = -1;
  }
  if (!searchMatches.length) { searchCount.textContent = t('noMatch'); return; }
  searchPos = (searchPos + 1) % searchMatches.length;
  searchCount.textContent = t('matchOf', searchPos + 1, searchMatches.length);
  select(searchMatches[searchPos], true);
}

export function syncScrollbar(): void {
  const rows = view.hasRun ? totalRows(store.rows().count) : 0;
  vspacer.style.height = `${rows * ROW_H + bodyTop()}px`;
  vscroll.style.top = `${bodyTop()}px`;
  if (Math.abs(vscroll.scrollTop - view.scrollTop) > 1) vscroll.scrollTop = view.scrollTop;
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
export function saveState(): void {
  if (saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    const s: GanttViewState = { runKey: store.runKey, file: view.currentFile, t0: view.t0, usPerPx: view.upp, scrollTop: view.scrollTop, follow: view.follow, collapsed: [...store.collapsed] };
    vscode.setState(s);
  }, 300);
}
