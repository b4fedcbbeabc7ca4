// Stats of the drawn frame for the extension (tests, bench) and the offscreen accessible summary.
import type { GanttStats } from '../core/ganttProtocol';
import { END_STATES, taskKindOf } from '../core/ganttProtocol';
import { el, tooltip, emptyBox, summaryTitle, laneList, lagList } from './ganttDom';
import { P } from './ganttPalette';
import { stateOf } from './ganttHitTest';
import { totalRows } from './ganttExecutors';
import { pathStats } from './ganttCriticalPath';
import { lagStats, lagSummary } from './ganttLagLane';
import { focusWaitStats } from './ganttFocusWait';
import { groupStats } from './ganttProcessLanes';
import { vscode, store, ROW_H, bodyTop, t, view, chartH, tOf } from './ganttView';

let reportTimer: ReturnType<typeof setTimeout> | undefined;
export function scheduleReport(): void {
  if (reportTimer) return;
  reportTimer = setTimeout(() => { reportTimer = undefined; report(); }, 120);
}

export function collectStats(): GanttStats {
  if (view.hasRun) store.ensureSorted();
  const rows = view.hasRun ? store.rows() : undefined;
  const lanes: GanttStats['visibleLanes'] = [];
  const execLanes: NonNullable<GanttStats['execLanes']> = [];
  if (rows) {
    const r0 = Math.floor(view.scrollTop / ROW_H);
    const r1 = Math.min(rows.count, Math.ceil((view.scrollTop + chartH()) / ROW_H));
    for (let r = r0; r < r1; r++) {
      const idx = store.index.get(rows.ids[r])!;
      lanes.push({
        id: rows.ids[r], name: store.name[idx], coro: store.coro[idx], kind: store.isGroup(rows.ids[r]) ? 'process' : taskKindOf(store.kind[idx]),
        state: END_STATES[store.endState[idx]] || 'alive', depth: rows.depth[r], y: bodyTop() + r * ROW_H - view.scrollTop + ROW_H / 2,
        slices: store.laneStart[idx + 1] - store.laneStart[idx],
      });
    }
    for (let r = Math.max(r0, rows.count); r < Math.min(totalRows(rows.count), r1 + store.execLanes.length); r++) {
      const l = store.execLanes[r - rows.count];
      const y = bodyTop() + r * ROW_H - view.scrollTop + ROW_H / 2;
      if (y > view.height) break;
      execLanes.push({ name: l.name, y, items: l.items.slice() });
    }
  }
  return {
    runKey: store.runKey, frames: view.frames, lastFrameMs: view.lastFrameMs, slicesDrawn: view.slicesDrawn, visibleLanes: lanes, execLanes, totalLanes: rows?.count ?? 0, steps: store.n,
    t0: tOf(view.labelW), t1: tOf(view.width), usPerPx: view.upp, labelW: view.labelW, axisH: bodyTop(), follow: view.follow, selected: view.selected, tooltip: tooltip.hidden ? null : tooltip.textContent, firstFrameMs: view.firstFrameMs,
    colors: { background: P.bg, running: P.running, waiting: P.waiting },
    compare: view.compare,
    criticalPath: pathStats(),
    lagLanes: lagStats(),
    focusWait: focusWaitStats(),
    processGroups: groupStats(rows),
  };
}

export function report(): void {
  const stats = collectStats();
  // Accessible summary of what is on screen.
  summaryTitle.textContent = view.hasRun ? t('lanesSummary', store.label, store.taskCount, stats.totalLanes) : emptyBox.textContent ?? '';
  laneList.textContent = '';
  lagList.textContent = '';
  for (const line of view.hasRun ? lagSummary() : []) el('li', undefined, lagList).textContent = line;
  for (const l of stats.visibleLanes) {
    const li = el('li', undefined, laneList);
    li.dataset.taskId = String(l.id);
    li.dataset.y = String(Math.round(l.y));
    const idx = store.index.get(l.id)!;
    li.textContent = store.isGroup(l.id)
      ? t('processLaneSummary', store.name[idx], store.coro[idx], t(store.collapsed.has(l.id) ? 'collapsed' : 'expanded'))
      : t('laneSummary', store.name[idx], store.coro[idx], t(taskKindOf(store.kind[idx])), stateOf(idx), l.slices);
    if (l.id === view.selected) li.setAttribute('aria-current', 'true');
  }
  for (const l of stats.execLanes ?? []) {
    const li = el('li', undefined, laneList);
    li.dataset.execLane = l.name;
    li.dataset.y = String(Math.round(l.y));
    li.textContent = t('execLaneSummary', l.name, l.items.map((id) => store.execs.get(id)?.func ?? `#${id}`).join(', '));
  }
  if (view.loaded) vscode.postMessage({ type: 'stats', stats });
}
