// Event-loop lag lanes, pinned between the axis and the task lanes, one per loop (or greenlet thread):
// how long tasks were ready before they ran: each lag drawn over the time the task was ready, as
// high as the lag (full at the block threshold; per pixel column the largest), and the loop's
// blocking steps along the bottom. The hover says which step
// blocked and whom it delayed (the blame the extension computed); arrows point to the delayed tasks.
import type { GanttStats, LagBlockEntry, LagLaneEntry } from '../core/ganttProtocol';
import { formatDuration } from '../core/format';
import { formatTime } from '../core/ganttLayout';
import { lowerBound } from '../core/ganttLod';
import { ctx } from './ganttDom';
import { P } from './ganttPalette';
import { arrow, clampY, fitText, requestDraw, rowY } from './ganttDraw';
import type { Hit } from './ganttHitTest';
import { siteText } from './ganttHitTest';
import { syncScrollbar } from './ganttNavigation';
import { store, AXIS_H, t, view, chartW, xOf, tOf } from './ganttView';

export const LAG_H = 30;

interface LagLane { label: string; ts: Float64Array; lag: Float64Array; task: Float64Array; blocks: LagBlockEntry[]; maxLag: number }

let lanes: LagLane[] = [];
/** Per pixel column of the chart: the largest lag whose ready time covers it (rebuilt each frame). */
let colMax = new Float64Array(0);
/** levels[k][c]: the largest lag over the 2^k columns from c (range updates resolved in O(width log width)). */
let levels: Float64Array[] = [];

export function setLag(entries: LagLaneEntry[]): void {
  lanes = entries.map((e) => {
    const lag = new Float64Array(e.lag);
    let maxLag = 0;
    for (let i = 0; i < lag.length; i++) if (lag[i] > maxLag) maxLag = lag[i];
    for (const b of e.blocks) if (b.dur > maxLag) maxLag = b.dur;
    return { label: e.label, ts: new Float64Array(e.ts), lag, task: new Float64Array(e.task), blocks: e.blocks, maxLag };
  });
  const h = lanes.length * LAG_H;
  if (h !== view.lagH) { view.lagH = h; syncScrollbar(); }
  requestDraw();
}

export function clearLag(): void {
  lanes = [];
  view.lagH = 0;
}

function laneTop(i: number): number { return AXIS_H + i * LAG_H; }

/** Height of a lag bar: full at the block threshold, at least 1 px. */
function barH(lag: number): number {
  return Math.max(1, Math.min(1, lag / Math.max(1, store.blockUs)) * (LAG_H - 8));
}

/**
 * Fills colMax: per pixel column of the chart, the largest lag of lane `l` whose ready time covers it.
 * Each sample is a range update [c0, c1] (its ready time in columns): recorded on the two power-of-two
 * blocks covering it, then pushed down level by level, so long lags of many tasks cost no more than short ones.
 */
function bucket(l: LagLane, tL: number, tR: number): void {
  const w = Math.ceil(chartW()) + 1;
  let depth = 1;
  while ((1 << depth) < w) depth++;
  if (colMax.length < w || levels.length !== depth + 1 || levels[0].length < w) {
    colMax = new Float64Array(w);
    levels = Array.from({ length: depth + 1 }, () => new Float64Array(w));
  }
  for (const lv of levels) lv.fill(0, 0, w);
  // A sample ends at its ts and reaches back by its lag: those ending after tL, starting before tR.
  for (let i = lowerBound(l.ts, 0, l.ts.length, tL); i < l.ts.length && l.ts[i] - l.maxLag <= tR; i++) {
    const lag = l.lag[i];
    const c0 = Math.max(0, Math.floor((l.ts[i] - lag - view.t0) / view.upp));
    const c1 = Math.min(w - 1, Math.floor((l.ts[i] - view.t0) / view.upp));
    if (c1 < c0) continue;
    const k = 31 - Math.clz32(c1 - c0 + 1);
    const lv = levels[k];
    if (lag > lv[c0]) lv[c0] = lag;
    const c2 = c1 - (1 << k) + 1;
    if (lag > lv[c2]) lv[c2] = lag;
  }
  for (let k = depth; k > 0; k--) {
    const hi = levels[k], lo = levels[k - 1], half = 1 << (k - 1);
    for (let c = 0; c < w; c++) {
      const v = hi[c];
      if (v <= 0) continue;
      if (v > lo[c]) lo[c] = v;
      if (c + half < w && v > lo[c + half]) lo[c + half] = v;
    }
  }
  colMax.set(levels[0].subarray(0, w));
}

export function drawLagLanes(tL: number, tR: number): void {
  if (!lanes.length) return;
  const w = Math.ceil(chartW()) + 1;
  for (let li = 0; li < lanes.length; li++) {
    const l = lanes[li];
    const y = laneTop(li);
    const base = y + LAG_H - 4;
    ctx.save();
    ctx.beginPath();
    ctx.rect(view.labelW, y, chartW(), LAG_H);
    ctx.clip();
    ctx.fillStyle = P.bg;
    ctx.fillRect(view.labelW, y, chartW(), LAG_H);
    if (view.hover?.kind === 'lag' && view.hover.row === -1 - li) {
      ctx.globalAlpha = 0.2; ctx.fillStyle = P.focus;
      ctx.fillRect(xOf(view.hover.start), y, Math.max(2, (view.hover.end - view.hover.start) / view.upp), LAG_H);
      ctx.globalAlpha = 1;
    }
    // The block threshold: a dashed line where a full bar reaches.
    ctx.strokeStyle = P.grid; ctx.setLineDash([2, 3]);
    ctx.beginPath(); ctx.moveTo(view.labelW, base - (LAG_H - 8) + 0.5); ctx.lineTo(view.width, base - (LAG_H - 8) + 0.5); ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = P.lane;
    ctx.fillRect(view.labelW, base, chartW(), 1);
    bucket(l, tL, tR);
    for (let c = 0; c < w; c++) {
      const m = colMax[c];
      if (m <= 0) continue;
      const h = barH(m);
      ctx.fillStyle = m >= store.blockUs ? P.block : P.ready;
      ctx.fillRect(view.labelW + c, base - h, 1, h);
      view.slicesDrawn++;
    }
    // Blocking steps along the bottom edge, at least 3 px wide.
    ctx.fillStyle = P.block;
    for (const b of l.blocks) {
      if (b.ts + b.dur < tL || b.ts > tR) continue;
      ctx.fillRect(xOf(b.ts), base + 1, Math.max(3, b.dur / view.upp), 3);
    }
    ctx.restore();
    // The label column: the lane's name and its largest lag.
    ctx.fillStyle = P.bg;
    ctx.fillRect(0, y, view.labelW, LAG_H);
    ctx.fillStyle = l.maxLag >= store.blockUs ? P.block : P.ready;
    ctx.fillRect(10, y + LAG_H / 2 - 4, 3, 8);
    ctx.fillRect(15, y + LAG_H / 2 - 1, 3, 5);
    ctx.fillStyle = P.fg;
    ctx.fillText(fitText(t('lagLaneLabel', l.label, formatDuration(l.maxLag)), view.labelW - 30), 24, y + LAG_H / 2 + 1);
    ctx.strokeStyle = P.grid;
    ctx.beginPath(); ctx.moveTo(0, y + LAG_H - 0.5); ctx.lineTo(view.width, y + LAG_H - 0.5); ctx.stroke();
  }
}

/** For the hovered blocking step of a lag lane: arrows down to the tasks it delayed. */
export function drawLagLinks(rows: { rowOf: Map<number, number> }): void {
  const h = view.hover;
  if (!h || h.kind !== 'lag' || !h.targets.length) return;
  const li = -1 - h.row;
  const x = Math.max(view.labelW, Math.min(view.width, xOf(h.end)));
  for (const id of h.targets) {
    const r = rows.rowOf.get(id);
    if (r === undefined) continue;
    arrow(x, laneTop(li) + LAG_H - 4, x + 2, clampY(rowY(r)), P.block, 0.9);
  }
}

function taskName(id: number): string {
  const i = store.index.get(id);
  return i === undefined ? `#${id}` : store.name[i];
}

/** What is under the pointer on a lag lane: a blocking step (with its blame), else the largest lag near it. */
export function hitLag(x: number, y: number): Hit | null {
  const li = Math.floor((y - AXIS_H) / LAG_H);
  const l = lanes[li];
  if (!l) return null;
  const row = -1 - li;
  if (x < view.labelW) {
    return { row, task: -1, kind: 'lag', start: 0, end: 0, site: -1, lines: [l.label, t('lagMax', formatDuration(l.maxLag)), t('lagHelp')], targets: [] };
  }
  const tm = tOf(x);
  const tol = 3 * view.upp;
  for (const b of l.blocks) {
    if (tm < b.ts - tol || tm > b.ts + b.dur + tol) continue;
    const lines = [l.label, b.text, `${t('start')}: ${formatTime(b.ts, view.upp)}`];
    if (b.site >= 0) lines.push(`${t('site')}: ${siteText(b.site)}`);
    return { row, task: b.task, kind: 'lag', start: b.ts, end: b.ts + b.dur, site: b.site, lines, targets: b.delayed.filter((id) => id !== b.task) };
  }
  // The largest lag whose ready time is under the pointer (within a few pixels).
  let best = -1;
  for (let i = lowerBound(l.ts, 0, l.ts.length, tm - tol); i < l.ts.length && l.ts[i] - l.maxLag <= tm + tol; i++) {
    if (l.ts[i] - l.lag[i] > tm + tol) continue;
    if (best < 0 || l.lag[i] > l.lag[best]) best = i;
  }
  if (best < 0) return null;
  const ts = l.ts[best], lag = l.lag[best], task = l.task[best];
  const lines = [l.label, t('lagSample', taskName(task), formatDuration(lag)), `${t('start')}: ${formatTime(ts, view.upp)}`];
  // Whose blocking step it waited behind, if one overlapped the time it was ready.
  const behind = l.blocks.find((b) => b.ts < ts && b.ts + b.dur > ts - lag);
  if (behind) lines.push(t('lagBehind', taskName(behind.task), formatDuration(Math.min(ts, behind.ts + behind.dur) - Math.max(ts - lag, behind.ts))));
  return { row, task, kind: 'lag', start: ts - lag, end: ts, site: -1, lines, targets: [] };
}

export function lagStats(): GanttStats['lagLanes'] {
  return lanes.map((l, i) => {
    const longest = l.blocks.reduce<LagBlockEntry | null>((m, b) => (m === null || b.dur > m.dur ? b : m), null);
    return {
      label: l.label, y: laneTop(i) + LAG_H / 2, samples: l.ts.length, blocks: l.blocks.length, maxLag: l.maxLag,
      longestBlock: longest && { task: longest.task, ts: longest.ts, dur: longest.dur },
    };
  });
}

/** Lines of the accessible summary: each lane's largest lag and its longest blocking steps with blame. */
export function lagSummary(): string[] {
  return lanes.map((l) => {
    const worst = [...l.blocks].sort((a, b) => b.dur - a.dur).slice(0, 3).map((b) => b.text);
    return [`${l.label}: ${t('lagMax', formatDuration(l.maxLag))}`, ...worst].join('; ');
  });
}
