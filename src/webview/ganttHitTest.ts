// What is under the pointer, and the tooltip text describing it (every string from the extension, textContent only).
import { formatDuration } from '../core/format';
import { formatTime } from '../core/ganttLayout';
import { lowerBound, upperBound } from '../core/ganttLod';
import { WAIT_KINDS, END_STATES, taskKindOf } from '../core/ganttProtocol';
import { el, main, tooltip } from './ganttDom';
import { execWaitText, hitExec, totalRows } from './ganttExecutors';
import { pathHoverLine } from './ganttCriticalPath';
import { taskDetailLines } from './ganttTaskDetails';
import { store, ROW_H, AXIS_H, bodyTop, t, view, tOf } from './ganttView';
import { hitLag } from './ganttLagLane';
import { hitGroup } from './ganttProcessLanes';

// ---------------------------------------------------------------- hit testing and tooltips

export interface Hit {
  row: number;
  task: number;
  kind: 'run' | 'merged' | 'wait' | 'ready' | 'scheduled' | 'timeout' | 'cancel' | 'end' | 'block' | 'label' | 'exec' | 'lag';
  start: number;
  end: number;
  /** Site to open on click, -1 none. */
  site: number;
  lines: string[];
  targets: number[];
  /** The executor work item under the pointer, or waited on by the wait under it. */
  item?: number;
}

export function siteText(site: number): string {
  const s = store.sites.get(site);
  if (!s) return '';
  const file = s.file.split(/[\\/]/).pop() ?? s.file;
  return s.func ? `${file}:${s.line} (${s.func})` : `${file}:${s.line}`;
}

export function taskTitle(idx: number): string {
  const name = store.name[idx];
  const coro = store.coro[idx];
  const kind = t(taskKindOf(store.kind[idx]));
  return `${name}${coro && coro !== name ? ` · ${coro}` : ''} — ${kind}`;
}

export function waitText(awaitId: number): { text: string; site: number; targets: number[]; item?: number } {
  const a = store.awaits[awaitId];
  if (!a) return { text: '', site: -1, targets: [] };
  const [site, kind, detail, targets, item] = a;
  if (item !== undefined && item >= 0) return { text: execWaitText(item), site, targets, item };
  let text = t(`wait.${WAIT_KINDS[kind] ?? 'other'}`);
  if (kind === 0 && detail) text = detail;
  else if (detail) text += ` ${detail}`;
  if (targets.length) {
    const names = targets.slice(0, 5).map((id) => { const i = store.index.get(id); return i === undefined ? `#${id}` : store.name[i]; });
    text += `: ${names.join(', ')}${targets.length > 5 ? ` (+${targets.length - 5})` : ''}`;
  }
  return { text, site, targets };
}

export function hitTest(x: number, y: number): Hit | null {
  const h = hitAt(x, y);
  if (h && h.task >= 0 && h.kind !== 'label' && h.kind !== 'exec' && h.kind !== 'lag' && !store.isGroup(h.task)) {
    const line = pathHoverLine(h.task, tOf(x));
    if (line) h.lines.push(line);
  }
  return h;
}

function hitAt(x: number, y: number): Hit | null {
  if (y < AXIS_H || !view.hasRun) return null;
  if (y < bodyTop()) return hitLag(x, y);
  const rows = store.rows();
  const row = Math.floor((y - bodyTop() + view.scrollTop) / ROW_H);
  if (row < 0 || row >= totalRows(rows.count)) return null;
  if (row >= rows.count) return hitExec(row - rows.count, row, x);
  const id = rows.ids[row];
  if (store.isGroup(id)) return hitGroup(row, id, x);
  const idx = store.index.get(id)!;
  const base = { row, task: id, targets: [] as number[] };
  if (x < view.labelW) {
    const lines = [taskTitle(idx), `${t('state')}: ${stateOf(idx)}`, ...(store.site[idx] >= 0 ? [`${t('createdAt')}: ${siteText(store.site[idx])}`] : []), ...(store.error[idx] ? [`${t('error')}: ${store.error[idx]}`] : [])];
    // Where its time went (from the extension, shown when it arrives).
    lines.push(...(taskDetailLines(id) ?? []));
    return { ...base, kind: 'label', start: store.created[idx], end: store.laneEnd(idx), site: store.site[idx], lines };
  }
  const tm = tOf(x);
  const tol = 3 * view.upp;
  const title = taskTitle(idx);
  // Point markers first: they sit on top of the bars.
  for (const to of store.timeoutsByTask.get(id) ?? []) {
    const at = to.state === 'fired' && to.endTs !== null ? to.endTs : to.armed;
    if (Math.abs(at - tm) <= tol || Math.abs(to.armed - tm) <= tol) {
      const fired = to.state === 'fired' && Math.abs((to.endTs ?? 0) - tm) <= tol;
      const lines = [title, fired ? t('timeoutFired') : t('timeoutArmed'), `${t('start')}: ${formatTime(to.armed, view.upp)}`];
      if (to.delay !== null) lines.push(`${t('duration')}: ${formatDuration(to.delay * 1e6)}`);
      if (to.site >= 0) lines.push(`${t('site')}: ${siteText(to.site)}`);
      return { ...base, kind: 'timeout', start: to.armed, end: to.endTs ?? to.armed, site: to.site, lines, targets: fired ? to.cancelled : [] };
    }
  }
  for (const c of store.cancelsByTask.get(id) ?? []) {
    if (Math.abs(c.ts - tm) <= tol) {
      const by = c.by >= 0 ? store.index.get(c.by) : undefined;
      const lines = [title, t('cancelRequested'), `${t('start')}: ${formatTime(c.ts, view.upp)}`, `${t('cause')}: ${c.cause}${by !== undefined ? ` (${store.name[by]})` : ''}`];
      if (c.site >= 0) lines.push(`${t('site')}: ${siteText(c.site)}`);
      return { ...base, kind: 'cancel', start: c.ts, end: c.ts, site: c.site, lines };
    }
  }
  const e = store.end[idx];
  if (!Number.isNaN(e) && Math.abs(e - tm) <= tol) {
    const lines = [title, `${t('ended')}: ${stateOf(idx)}`, `${t('start')}: ${formatTime(e, view.upp)}`];
    if (store.error[idx]) lines.push(`${t('error')}: ${store.error[idx]}`);
    const es = store.errorSite[idx];
    if (es >= 0) lines.push(`${t('site')}: ${siteText(es)}`);
    return { ...base, kind: 'end', start: e, end: e, site: es >= 0 ? es : store.site[idx], lines };
  }
  for (const b of store.blocksByTask.get(id) ?? []) {
    if (tm >= b.ts - tol && tm <= b.ts + b.dur + tol && y > bodyTop() + row * ROW_H - view.scrollTop + ROW_H - 6) {
      const lines = [title, t('blocking', formatDuration(b.dur)), `${t('start')}: ${formatTime(b.ts, view.upp)}`, `${t('duration')}: ${formatDuration(b.dur)}`];
      if (b.site >= 0) lines.push(`${t('site')}: ${siteText(b.site)}`);
      return { ...base, kind: 'block', start: b.ts, end: b.ts + b.dur, site: b.site, lines };
    }
  }
  store.ensureSorted();
  const lo = store.laneStart[idx], hi = store.laneStart[idx + 1];
  const lTs = store.lTs, lEnd = store.lEnd;
  // Steps within a few pixels of the cursor: one is described, several are a merged bar.
  const a = lowerBound(lEnd, lo, hi, tm - tol);
  const b = upperBound(lTs, lo, hi, tm + tol);
  if (b - a > 1 && (lEnd[b - 1] - lTs[a]) / view.upp < (b - a) * 2) {
    let run = 0;
    for (let i = a; i < b && i < a + 100_000; i++) run += lEnd[i] - lTs[i];
    const span = lEnd[b - 1] - lTs[a];
    const lines = [title, t('merged', b - a, formatDuration(run), formatDuration(span)), `${t('start')}: ${formatTime(lTs[a], view.upp)}`];
    return { ...base, kind: 'merged', start: lTs[a], end: lEnd[b - 1], site: -1, lines };
  }
  const k = upperBound(lTs, lo, hi, tm) - 1;
  const created = store.created[idx];
  const laneEnd = store.laneEnd(idx);
  if (k >= lo && tm <= lEnd[k] + (lEnd[k] - lTs[k] < view.upp ? tol : 0)) {
    const dur = lEnd[k] - lTs[k];
    const blocking = dur >= store.blockUs;
    const w = store.lWait[k];
    const lines = [title, blocking ? t('blocking', formatDuration(dur)) : t('running'), `${t('start')}: ${formatTime(lTs[k], view.upp)}`, `${t('duration')}: ${formatDuration(dur)}`];
    let site = -1;
    if (w >= 0) {
      const wt = waitText(w);
      site = wt.site;
      if (site >= 0) lines.push(`${t('suspendedAt')}: ${siteText(site)}`);
    }
    if (site < 0) site = store.site[idx];
    return { ...base, kind: 'run', start: lTs[k], end: lEnd[k], site, lines };
  }
  if (k >= lo) {
    const w = store.lWait[k];
    const endW = k + 1 < hi ? lTs[k + 1] : laneEnd;
    if (w >= 0 && tm <= endW) {
      const woke = k + 1 < hi ? store.lWoke[k + 1] : NaN;
      const isReady = !Number.isNaN(woke) && tm >= woke;
      const wt = waitText(w);
      const start = isReady ? woke : lEnd[k];
      const end = isReady ? endW : Number.isNaN(woke) ? endW : woke;
      const lines = [title, isReady ? t('ready') : `${t('waiting')}`, `${t('start')}: ${formatTime(start, view.upp)}`, `${t('duration')}: ${formatDuration(end - start)}${k + 1 >= hi && Number.isNaN(store.end[idx]) ? '+' : ''}`];
      if (wt.site >= 0) lines.push(`${t('site')}: ${siteText(wt.site)}`);
      if (wt.text) lines.push(`${t('waitedOn')}: ${wt.text}`);
      return { ...base, kind: isReady ? 'ready' : 'wait', start, end, site: wt.site >= 0 ? wt.site : store.site[idx], lines, targets: wt.targets, item: wt.item };
    }
    return null;
  }
  const first = hi > lo ? lTs[lo] : laneEnd;
  if (tm >= created - tol && tm <= first) {
    const lines = [title, t('scheduled'), `${t('start')}: ${formatTime(created, view.upp)}`, `${t('duration')}: ${formatDuration(first - created)}`];
    if (store.site[idx] >= 0) lines.push(`${t('createdAt')}: ${siteText(store.site[idx])}`);
    return { ...base, kind: 'scheduled', start: created, end: first, site: store.site[idx], lines };
  }
  return null;
}

export function showTooltip(h: Hit | null, x: number, y: number): void {
  if (!h) { tooltip.hidden = true; return; }
  tooltip.textContent = '';
  h.lines.forEach((line, i) => { el('div', i === 0 ? 'tt-title' : 'tt-line', tooltip).textContent = line; });
  tooltip.hidden = false;
  const r = main.getBoundingClientRect();
  const tw = tooltip.offsetWidth, th = tooltip.offsetHeight;
  let left = x + 14, top = y + 16;
  if (left + tw > r.width - 4) left = Math.max(4, x - tw - 10);
  if (top + th > r.height - 4) top = Math.max(4, y - th - 10);
  tooltip.style.left = `${left}px`;
  tooltip.style.top = `${top}px`;
}

export function stateOf(idx: number): string {
  const es = store.endState[idx];
  if (es) return t(END_STATES[es]);
  return t('alive');
}
