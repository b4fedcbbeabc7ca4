// The timeline webview: a canvas Gantt chart of every task's life (lanes nested by creator), drawn with
// level of detail so a million steps pan and zoom at frame rate. Talks to ganttPanel.ts through the
// typed messages of ganttProtocol.ts; every string shown comes from the extension and is escaped
// (textContent / canvas text only, never innerHTML with data).
import type { GanttStats, GanttViewState, ToWebview } from '../core/ganttProtocol';
import { processGroupId } from '../core/ganttProcessGroups';
import { runTitle, liveBadge, btnFollow, canvas, emptyBox, applyStrings, setFollowButton } from './ganttDom';
import { readPalette, buildLegend } from './ganttPalette';
import { requestDraw, draw } from './ganttDraw';
import { clampView, fitAll, zoomAt, setFollow, followNow, zoomToTask, select, syncScrollbar } from './ganttNavigation';
import { installInput, resize } from './ganttInput';
import { collectStats } from './ganttReport';
import { clearPath, installPath, setPath } from './ganttCriticalPath';
import { clearLag, setLag } from './ganttLagLane';
import { clearTaskDetails, setTaskDetails } from './ganttTaskDetails';
import { clearFocusWait, revealWait } from './ganttFocusWait';
import { vscode, store, setStrings, view, chartW, perfLog } from './ganttView';

// ---------------------------------------------------------------- messages

function onMessage(m: ToWebview): void {
  switch (m.type) {
    case 'reset': {
      view.loadStart = performance.now();
      view.loaded = false;
      view.firstFrameMs = null;
      setStrings(m.strings);
      applyStrings();
      store.reset(m.runKey, m.label, m.live, m.now, m.blockMs);
      view.hasRun = true;
      emptyBox.hidden = true;
      canvas.hidden = false;
      runTitle.textContent = m.label;
      liveBadge.hidden = !m.live;
      view.selected = null;
      view.hover = null;
      clearPath(false);
      clearLag();
      clearTaskDetails();
      clearFocusWait();
      // Our own saved state wins (hide/show of the panel), then what the extension restored.
      const own = vscode.getState() as GanttViewState | undefined;
      const r = own && own.runKey === m.runKey ? own : m.restore && m.restore.runKey === m.runKey ? m.restore : undefined;
      view.currentFile = m.restore?.file;
      view.compare = m.compare;
      view.fitted = false;
      view.follow = m.live;
      if (r && typeof r.usPerPx === 'number' && typeof r.t0 === 'number') {
        view.upp = r.usPerPx; view.t0 = r.t0; view.scrollTop = r.scrollTop ?? 0; view.follow = r.follow ?? view.follow; view.fitted = true;
        for (const id of r.collapsed ?? []) store.collapsed.add(id);
      } else view.scrollTop = 0;
      btnFollow.hidden = !m.live;
      setFollowButton();
      buildLegend();
      return;
    }
    case 'empty':
      setStrings(m.strings);
      applyStrings();
      view.hasRun = false;
      view.compare = undefined;
      clearPath(false);
      clearLag();
      store.reset('', '', false, 0, 100);
      runTitle.textContent = '';
      liveBadge.hidden = true;
      btnFollow.hidden = true;
      emptyBox.textContent = m.message;
      emptyBox.hidden = false;
      view.loaded = true;
      buildLegend();
      requestDraw();
      return;
    case 'sites': store.addSites(m.sites); return;
    case 'awaits': store.addAwaits(m.from, m.entries); return;
    case 'tasks': store.upsertTasks(m.columns); afterData(); return;
    case 'processes': store.setProcessGroups(m.groups); afterData(); return;
    case 'steps': store.addSteps(m.batch); afterData(); return;
    case 'execs': store.upsertExecs(m.items); afterData(); return;
    case 'markers': store.setMarkers(m.timeouts, m.cancelsFrom, m.cancels, m.blocksFrom, m.blocks); afterData(); return;
    case 'run':
      store.live = m.live;
      store.now = Math.max(m.now, store.now);
      store.exitCode = m.exitCode;
      if (store.now > store.maxTs) store.maxTs = store.now;
      liveBadge.hidden = !m.live;
      btnFollow.hidden = !m.live;
      afterData();
      return;
    case 'loaded':
      view.loaded = true;
      if (!view.fitted) { fitAll(); view.fitted = true; }
      syncScrollbar();
      requestDraw();
      return;
    case 'select':
      if (store.index.has(m.taskId)) select(m.taskId, false);
      return;
    case 'selectProcess': {
      const id = processGroupId(m.process);
      if (store.isGroup(id)) select(id, false);
      return;
    }
    case 'criticalPath':
      setPath(m.path);
      return;
    case 'lag':
      setLag(m.lanes);
      return;
    case 'revealWait':
      if (view.loaded) revealWait(m.taskId, m.from, m.to);
      return;
    case 'taskDetails':
      setTaskDetails(m.taskId, m.lines);
      return;
    case 'command':
      if (m.command === 'fit') fitAll();
      else if (m.command === 'zoomIn') zoomAt(0.5, chartW() / 2);
      else if (m.command === 'zoomOut') zoomAt(2, chartW() / 2);
      else if (m.command === 'follow') setFollow(true);
      else if (m.command === 'zoomToTask' && m.taskId !== undefined) zoomToTask(m.taskId);
      return;
  }
}


function afterData(): void {
  if (!view.loaded) return;
  syncScrollbar();
  if (view.follow && store.live) followNow();
  requestDraw();
}

window.addEventListener('message', (e: MessageEvent) => {
  const m = e.data as ToWebview;
  if (!m || typeof m !== 'object' || typeof (m as { type?: unknown }).type !== 'string') return;
  try {
    const t1 = performance.now();
    onMessage(m);
    if (perfLog.length < 200) perfLog.push(`${m.type} ${(performance.now() - t1).toFixed(1)}`);
  } catch (err) {
    vscode.postMessage({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
  }
});

// Programmatic access for the bench and tests (same code paths as the view.mouse and keyboard).
(window as unknown as { asyncTraceGantt: unknown }).asyncTraceGantt = {
  draw: (): number => draw(),
  pan: (dxPx: number): void => { view.t0 += dxPx * view.upp; },
  zoom: (factor: number, px: number): void => { const tm = view.t0 + px * view.upp; view.upp *= factor; clampView(); view.t0 = tm - px * view.upp; },
  fit: (): void => fitAll(),
  scroll: (dy: number): void => { view.scrollTop = Math.max(0, view.scrollTop + dy); },
  stats: (): GanttStats => collectStats(),
  perf: (): string[] => perfLog,
  view: (): { t0: number; upp: number; labelW: number; width: number; height: number } => ({ t0: view.t0, upp: view.upp, labelW: view.labelW, width: view.width, height: view.height }),
  /** Puts time `us` at `px` from the chart's left edge (keeps the zoom). */
  center: (us: number, px: number): void => { view.t0 = us - px * view.upp; },
  taskSpan: (id: number): [number, number] | null => {
    const idx = store.index.get(id);
    return idx === undefined ? null : [store.created[idx], store.laneEnd(idx)];
  },
};

installInput();
installPath();
readPalette();
applyStrings();
resize();
vscode.postMessage({ type: 'ready' });
