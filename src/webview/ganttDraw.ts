// Drawing the timeline on the canvas: lanes with level of detail, markers, links, labels and the axis.
import type { GanttStore } from './ganttStore';
import { formatTick, timeTicks } from '../core/ganttLayout';
import { LodOut, lodLane, lowerBound } from '../core/ganttLod';
import { ctx } from './ganttDom';
import { P, readPalette } from './ganttPalette';
import { scheduleReport } from './ganttReport';
import { drawPath, onPath } from './ganttCriticalPath';
import { drawLagLanes, drawLagLinks } from './ganttLagLane';
import { drawFocusWait, focusWaitFollowsSelection } from './ganttFocusWait';
import { drawExecLabel, drawExecLane, drawExecLinks, totalRows } from './ganttExecutors';
import { drawGroupGlyph, drawGroupLane } from './ganttProcessLanes';
import { store, ROW_H, AXIS_H, bodyTop, t, view, chartW, chartH, xOf, tOf, perfLog } from './ganttView';

// ---------------------------------------------------------------- drawing

let drawPending = false;
export function requestDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(); });
}

const lod = new LodOut();

export const textCache = new Map<number, { w: number; v: number; text: string }>();
export function laneLabel(idx: number, maxW: number): string {
  const id = store.id[idx];
  const c = textCache.get(id);
  if (c && c.w === maxW && c.v === store.taskVersion) return c.text;
  const full = store.coro[idx] && store.coro[idx] !== store.name[idx] ? `${store.name[idx]} · ${store.coro[idx]}` : store.name[idx];
  let text = full;
  if (ctx.measureText(text).width > maxW) {
    let lo = 0, hi = full.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(full.slice(0, mid) + '…').width <= maxW) lo = mid; else hi = mid - 1;
    }
    text = full.slice(0, lo) + '…';
  }
  textCache.set(id, { w: maxW, v: store.taskVersion, text });
  return text;
}

let fitCache = { text: '', w: 0, out: '' };
/** `text` cut with an ellipsis to fit `maxW` pixels (one entry cache: the header changes rarely). */
export function fitText(text: string, maxW: number): string {
  if (fitCache.text === text && fitCache.w === maxW) return fitCache.out;
  let out = text;
  if (ctx.measureText(out).width > maxW) {
    let lo = 0, hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid) + '…').width <= maxW) lo = mid; else hi = mid - 1;
    }
    out = text.slice(0, lo) + '…';
  }
  fitCache = { text, w: maxW, out };
  return out;
}

/** Draws one frame; returns its duration in ms. */
export function draw(): number {
  const start = performance.now();
  if (view.firstFrameMs === null && view.loaded && perfLog.length < 200) perfLog.push(`draw-start ${(start - view.loadStart).toFixed(1)}`);
  if (!P) readPalette();
  ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  ctx.fillStyle = P.bg;
  ctx.fillRect(0, 0, view.width, view.height);
  ctx.font = P.font;
  ctx.textBaseline = 'middle';
  view.slicesDrawn = 0;
  if (!view.hasRun) { finishFrame(start); return performance.now() - start; }

  store.ensureSorted();
  const rows = store.rows();
  const total = totalRows(rows.count);
  const maxScroll = Math.max(0, total * ROW_H - chartH());
  if (view.scrollTop > maxScroll) view.scrollTop = maxScroll;
  if (view.scrollTop < 0) view.scrollTop = 0;
  const r0 = Math.floor(view.scrollTop / ROW_H);
  const r1 = Math.min(total, Math.ceil((view.scrollTop + chartH()) / ROW_H));
  const tL = tOf(view.labelW) - view.upp;
  const tR = tOf(view.width) + view.upp;
  const { step, ticks } = timeTicks(tL, tR, chartW());

  // Grid lines behind the lanes.
  ctx.strokeStyle = P.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const tk of ticks) { const x = Math.round(xOf(tk)) + 0.5; ctx.moveTo(x, AXIS_H); ctx.lineTo(x, view.height); }
  ctx.stroke();

  // Lanes.
  ctx.save();
  ctx.beginPath();
  ctx.rect(view.labelW, bodyTop(), chartW(), chartH());
  ctx.clip();
  const selRow = view.selected !== null ? rows.rowOf.get(view.selected) : undefined;
  for (let r = r0; r < r1; r++) {
    const y = bodyTop() + r * ROW_H - view.scrollTop;
    if (r >= rows.count) {
      if (view.hover && view.hover.row === r) { ctx.globalAlpha = 0.5; ctx.fillStyle = P.hover; ctx.fillRect(view.labelW, y, chartW(), ROW_H); ctx.globalAlpha = 1; }
      drawExecLane(r - rows.count, y, tL, tR);
      continue;
    }
    const idx = store.index.get(rows.ids[r])!;
    if (r === selRow) { ctx.fillStyle = P.hover; ctx.fillRect(view.labelW, y, chartW(), ROW_H); }
    else if (view.hover && view.hover.row === r) { ctx.globalAlpha = 0.5; ctx.fillStyle = P.hover; ctx.fillRect(view.labelW, y, chartW(), ROW_H); ctx.globalAlpha = 1; }
    drawLane(idx, y, tL, tR);
  }
  drawLinks(rows, Math.min(r0, rows.count), Math.min(r1, rows.count));
  drawExecLinks(rows, r0, r1);
  drawPath(rows);
  focusWaitFollowsSelection();
  drawFocusWait(rows);
  if (view.rangeSel) {
    const a = Math.min(view.rangeSel.a, view.rangeSel.b), b = Math.max(view.rangeSel.a, view.rangeSel.b);
    ctx.globalAlpha = 0.2; ctx.fillStyle = P.focus; ctx.fillRect(a, bodyTop(), b - a, chartH()); ctx.globalAlpha = 1;
  }
  if (view.mouse && view.mouse.x > view.labelW) {
    ctx.strokeStyle = P.muted; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(Math.round(view.mouse.x) + 0.5, AXIS_H); ctx.lineTo(Math.round(view.mouse.x) + 0.5, view.height); ctx.stroke();
    ctx.setLineDash([]);
  }
  if (store.live) {
    const xn = xOf(store.now);
    if (xn >= view.labelW && xn <= view.width) { ctx.strokeStyle = P.ready; ctx.beginPath(); ctx.moveTo(xn, AXIS_H); ctx.lineTo(xn, view.height); ctx.stroke(); }
  }
  ctx.restore();
  drawLagLanes(tL, tR);
  drawLagLinks(rows);

  // Labels.
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, bodyTop(), view.labelW, chartH());
  ctx.clip();
  ctx.fillStyle = P.bg;
  ctx.fillRect(0, bodyTop(), view.labelW, chartH());
  for (let r = r0; r < r1; r++) {
    const y = bodyTop() + r * ROW_H - view.scrollTop;
    if (r >= rows.count) { drawExecLabel(r - rows.count, y); continue; }
    const id = rows.ids[r];
    const idx = store.index.get(id)!;
    const isSel = r === selRow;
    if (isSel) { ctx.fillStyle = P.sel; ctx.fillRect(0, y, view.labelW, ROW_H); }
    const indent = 6 + Math.min(rows.depth[r], 12) * 12;
    const fg = isSel ? P.selFg : P.fg;
    if (rows.hasChildren[r]) {
      const open = !store.collapsed.has(id);
      ctx.fillStyle = isSel ? P.selFg : P.muted;
      ctx.beginPath();
      const cx = indent + 4, cy = y + ROW_H / 2;
      if (open) { ctx.moveTo(cx - 4, cy - 2); ctx.lineTo(cx + 4, cy - 2); ctx.lineTo(cx, cy + 3); }
      else { ctx.moveTo(cx - 2, cy - 4); ctx.lineTo(cx + 3, cy); ctx.lineTo(cx - 2, cy + 4); }
      ctx.fill();
    }
    const gx = indent + 16, gy = y + ROW_H / 2;
    if (store.isGroup(id)) {
      // A process: its icon, then "worker pid 4312 · 2.1 s · exit 0".
      drawGroupGlyph(idx, gx, y);
      ctx.fillStyle = fg;
      ctx.fillText(laneLabel(idx, view.labelW - indent - 30), indent + 26, y + ROW_H / 2 + 1);
      continue;
    }
    // Kind glyph: a disc for asyncio tasks, a diamond for greenlets, a square for trio tasks.
    const kind = store.kind[idx];
    ctx.fillStyle = kind === 1 ? P.greenlet : kind === 2 ? P.trio : P.asyncio;
    ctx.beginPath();
    if (kind === 1) { ctx.moveTo(gx, gy - 5); ctx.lineTo(gx + 5, gy); ctx.lineTo(gx, gy + 5); ctx.lineTo(gx - 5, gy); ctx.closePath(); }
    else if (kind === 2) ctx.rect(gx - 3.5, gy - 3.5, 7, 7);
    else ctx.arc(gx, gy, 4, 0, Math.PI * 2);
    ctx.fill();
    const es = store.endState[idx];
    ctx.fillStyle = es === 3 ? P.failed : fg;
    // With a critical path shown, the names of the tasks off it are dimmed like their lanes.
    if (!onPath(id)) ctx.globalAlpha = 0.45;
    ctx.fillText(laneLabel(idx, view.labelW - indent - 30), indent + 26, y + ROW_H / 2 + 1);
    ctx.globalAlpha = 1;
  }
  ctx.restore();
  ctx.strokeStyle = P.grid;
  ctx.beginPath(); ctx.moveTo(view.labelW - 0.5, 0); ctx.lineTo(view.labelW - 0.5, view.height); ctx.stroke();

  // Axis.
  ctx.fillStyle = P.bg;
  ctx.fillRect(0, 0, view.width, AXIS_H);
  ctx.strokeStyle = P.grid;
  ctx.beginPath(); ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(view.width, AXIS_H - 0.5); ctx.stroke();
  ctx.save();
  ctx.beginPath(); ctx.rect(view.labelW, 0, chartW(), AXIS_H); ctx.clip();
  ctx.fillStyle = P.muted;
  ctx.strokeStyle = P.muted;
  ctx.beginPath();
  for (const tk of ticks) {
    const x = Math.round(xOf(tk)) + 0.5;
    ctx.moveTo(x, AXIS_H - 6); ctx.lineTo(x, AXIS_H);
    ctx.fillText(formatTick(tk, step), x + 3, AXIS_H / 2);
  }
  ctx.stroke();
  ctx.restore();
  ctx.fillStyle = P.muted;
  ctx.fillText(fitText(t('lanesSummary', store.label, store.taskCount, rows.count), view.labelW - 12), 6, AXIS_H / 2);

  finishFrame(start);
  return performance.now() - start;
}

export function finishFrame(start: number): void {
  view.frames++;
  view.lastFrameMs = performance.now() - start;
  if (view.firstFrameMs === null && view.loaded) view.firstFrameMs = performance.now() - view.loadStart;
  // Only view.frames of fully view.loaded data are reported (tests and the bench read them).
  if (view.loaded) scheduleReport();
}

export function drawLane(idx: number, y: number, tL: number, tR: number): void {
  if (store.isGroup(store.id[idx])) { drawGroupLane(idx, y, tL, tR); return; }
  const lo = store.laneStart[idx], hi = store.laneStart[idx + 1];
  const created = store.created[idx];
  const laneEnd = store.laneEnd(idx);
  if (laneEnd < tL || created > tR) return;
  const mid = y + ROW_H / 2;
  const barH = ROW_H - 8;
  const waitH = Math.round(ROW_H * 0.4);
  const lTs = store.lTs, lEnd = store.lEnd, lWoke = store.lWoke, lWait = store.lWait;
  // Lifeline.
  ctx.fillStyle = P.lane;
  const la = Math.max(xOf(created), view.labelW - 2), lb = Math.min(xOf(laneEnd), view.width + 2);
  ctx.fillRect(la, mid - 0.5, Math.max(1, lb - la), 1);

  const wait = (after: number, a: number, b: number, woke: number): void => {
    if (b <= a) return;
    const w = lWait[after];
    if (w < 0) return;
    const kind = store.awaits[w]?.[1] ?? 0;
    const xa = Math.max(xOf(a), view.labelW - 2), xb = Math.min(xOf(b), view.width + 2);
    if (xb - xa < 0.5) return;
    const readyFrom = Number.isNaN(woke) ? b : Math.max(a, Math.min(b, woke));
    const xr = Math.min(xOf(readyFrom), xb);
    ctx.globalAlpha = 0.75;
    ctx.fillStyle = P.wait[kind] ?? P.waiting;
    if (xr > xa) ctx.fillRect(xa, mid - waitH / 2, xr - xa, waitH);
    if (xb > xr) { ctx.fillStyle = P.ready; ctx.fillRect(Math.max(xr, xa), mid - waitH / 2, xb - Math.max(xr, xa), waitH); }
    ctx.globalAlpha = 1;
    view.slicesDrawn++;
  };

  let k = lowerBound(lEnd, lo, hi, tL);
  let prev = -1;
  let prevEnd = 0;
  if (k > lo) { prev = k - 1; prevEnd = lEnd[prev]; }
  else if (!view.compare?.roots.includes(store.id[idx])) {
    // Created, not started yet: until the first step (or the end).
    const a = created, b = hi > lo ? lTs[lo] : laneEnd;
    const xa = Math.max(xOf(a), view.labelW - 2), xb = Math.min(xOf(b), view.width + 2);
    if (xb - xa >= 0.5) { ctx.globalAlpha = 0.45; ctx.fillStyle = P.ready; ctx.fillRect(xa, mid - waitH / 4, xb - xa, waitH / 2); ctx.globalAlpha = 1; }
  }
  lod.reset();
  const bars = lodLane(lTs, lEnd, store.lCum, lo, hi, tL, tR, view.upp, lod);
  for (let b = 0; b < bars; b++) {
    const s = lod.start[b], e = lod.end[b], f = lod.first[b], l = lod.last[b];
    if (prev >= 0) wait(prev, prevEnd, s, lWoke[f]);
    const xa = xOf(s);
    const w = Math.max(1, (e - s) / view.upp);
    if (f === l) {
      const blocking = e - s >= store.blockUs;
      ctx.fillStyle = blocking ? P.block : P.running;
      ctx.fillRect(xa, mid - barH / 2, w, barH);
    } else {
      ctx.fillStyle = P.running;
      ctx.globalAlpha = 0.35 + 0.65 * lod.busy[b];
      ctx.fillRect(xa, mid - barH / 2, w, barH);
      ctx.globalAlpha = 1;
    }
    view.slicesDrawn++;
    prev = l;
    prevEnd = e;
    k = l + 1;
  }
  if (prev >= 0) {
    const nextTs = k < hi ? lTs[k] : laneEnd;
    wait(prev, prevEnd, nextTs, k < hi ? lWoke[k] : NaN);
  }
  drawMarkers(idx, y, tL, tR);
}

export function drawMarkers(idx: number, y: number, tL: number, tR: number): void {
  const id = store.id[idx];
  const mid = y + ROW_H / 2;
  // Blocking steps: a bar along the bottom edge, at least 3 px wide so it stands out at any zoom.
  const blocks = store.blocksByTask.get(id);
  if (blocks) {
    ctx.fillStyle = P.block;
    for (const b of blocks) {
      if (b.ts + b.dur < tL || b.ts > tR) continue;
      ctx.fillRect(xOf(b.ts), y + ROW_H - 4, Math.max(3, b.dur / view.upp), 3);
    }
  }
  // Timeouts: the armed window as a thin line on top, a diamond where it fired.
  const tos = store.timeoutsByTask.get(id);
  if (tos) {
    for (const to of tos) {
      const endTs = to.endTs ?? (to.delay !== null ? to.armed + to.delay * 1e6 : store.laneEnd(idx));
      if (endTs < tL || to.armed > tR) continue;
      ctx.fillStyle = P.timeout;
      const xa = xOf(to.armed);
      ctx.fillRect(xa, y + 2, Math.max(1, xOf(endTs) - xa), 1.5);
      ctx.fillRect(xa, y + 1, 1.5, 5);
      if (to.state === 'fired') diamond(xOf(endTs), y + 4, 4, P.timeout);
    }
  }
  const cancels = store.cancelsByTask.get(id);
  if (cancels) {
    ctx.strokeStyle = P.cancelled;
    ctx.lineWidth = 2;
    for (const c of cancels) {
      if (c.ts < tL || c.ts > tR) continue;
      const x = xOf(c.ts);
      ctx.beginPath(); ctx.moveTo(x - 3, mid - 3); ctx.lineTo(x + 3, mid + 3); ctx.moveTo(x + 3, mid - 3); ctx.lineTo(x - 3, mid + 3); ctx.stroke();
    }
    ctx.lineWidth = 1;
  }
  // Created: a small downward triangle; end: a disc coloured by how it ended.
  const c = store.created[idx];
  if (c >= tL && c <= tR) {
    const x = xOf(c);
    ctx.fillStyle = P.fg;
    ctx.beginPath(); ctx.moveTo(x - 3, y + 3); ctx.lineTo(x + 3, y + 3); ctx.lineTo(x, y + 8); ctx.fill();
  }
  const e = store.end[idx];
  if (!Number.isNaN(e) && e >= tL && e <= tR) {
    const es = store.endState[idx];
    const col = es === 3 ? P.failed : es === 2 ? P.cancelled : P.done;
    const x = xOf(e);
    ctx.fillStyle = col;
    ctx.beginPath(); ctx.arc(x, mid, 4, 0, Math.PI * 2); ctx.fill();
    if (es === 3 || es === 2) { ctx.strokeStyle = P.bg; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(x - 2, mid - 2); ctx.lineTo(x + 2, mid + 2); if (es === 3) { ctx.moveTo(x + 2, mid - 2); ctx.lineTo(x - 2, mid + 2); } ctx.stroke(); ctx.lineWidth = 1; }
  }
}

export function diamond(x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath(); ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); ctx.fill();
}

export function rowY(row: number): number { return bodyTop() + row * ROW_H - view.scrollTop + ROW_H / 2; }

/** Arrow from (x1,y1) to (x2,y2); rows off screen clamp to the chart's edge. */
export function arrow(x1: number, y1: number, x2: number, y2: number, color: string, alpha = 1): void {
  ctx.globalAlpha = alpha;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = 1.25;
  ctx.beginPath();
  ctx.moveTo(x1, y1);
  const mx = Math.max(x1, x2) === x1 && x1 === x2 ? x1 : (x1 + x2) / 2;
  ctx.bezierCurveTo(mx, y1, mx, y2, x2, y2);
  ctx.stroke();
  const ang = Math.atan2(y2 - y1, x2 - mx || 0.001);
  const a = Math.abs(x2 - mx) < 1 ? (y2 > y1 ? Math.PI / 2 : -Math.PI / 2) : ang;
  ctx.beginPath();
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - 6 * Math.cos(a - 0.45), y2 - 6 * Math.sin(a - 0.45));
  ctx.lineTo(x2 - 6 * Math.cos(a + 0.45), y2 - 6 * Math.sin(a + 0.45));
  ctx.closePath();
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.lineWidth = 1;
}

export function clampY(y: number): number { return Math.max(bodyTop(), Math.min(view.height, y)); }

/** Creator -> child, awaiting -> awaited, fired timeout -> cancelled: for the view.selected/hovered task (all links when few tasks). */
export function drawLinks(rows: ReturnType<GanttStore['rows']>, r0: number, r1: number): void {
  const focus = new Set<number>();
  if (view.selected !== null) focus.add(view.selected);
  if (view.hover) focus.add(view.hover.task);
  const few = store.taskCount <= 40;
  if (few) for (let r = r0; r < r1; r++) focus.add(rows.ids[r]);
  for (const id of focus) {
    const idx = store.index.get(id);
    if (idx === undefined) continue;
    const row = rows.rowOf.get(id);
    const strong = id === view.selected || (view.hover !== null && view.hover.task === id);
    const alpha = strong ? 0.95 : 0.35;
    // Creator -> this task at its creation time.
    const p = store.parent[idx];
    // (A process's row is no creator: no arrow from it.)
    const pRow = p >= 0 && !store.isGroup(p) ? rows.rowOf.get(p) : undefined;
    if (row !== undefined && pRow !== undefined) {
      const x = xOf(store.created[idx]);
      if (x >= view.labelW && x <= view.width) arrow(x, clampY(rowY(pRow)), x, clampY(rowY(row) - 5), P.muted, alpha);
    }
    if (!strong && !few) continue;
    // This task -> its children.
    if (row !== undefined && !store.isGroup(id)) {
      for (const c of store.children(id)) {
        const cRow = rows.rowOf.get(c);
        const ci = store.index.get(c);
        // With few tasks every visible child already drew its own creator link above.
        if (cRow === undefined || ci === undefined || (cRow >= r0 && cRow < r1 && few)) continue;
        const x = xOf(store.created[ci]);
        if (x >= view.labelW && x <= view.width) arrow(x, clampY(rowY(row)), x, clampY(rowY(cRow) - 5), P.muted, alpha);
      }
    }
    // Fired timeouts of this task -> the tasks they cancelled.
    for (const to of store.timeoutsByTask.get(id) ?? []) {
      if (to.state !== 'fired' || row === undefined) continue;
      const x = xOf(to.endTs ?? to.armed);
      for (const c of to.cancelled) {
        const cRow = rows.rowOf.get(c);
        if (cRow === undefined || c === id) continue;
        arrow(x, clampY(rowY(row) - 6), x + 2, clampY(rowY(cRow)), P.timeout, strong ? 0.95 : 0.6);
      }
    }
  }
  // Awaiting -> awaited, for the hovered wait.
  if (view.hover && view.hover.kind === 'wait' && view.hover.targets.length) {
    const row = rows.rowOf.get(view.hover.task);
    if (row !== undefined) {
      const x = Math.max(view.labelW, Math.min(view.width, xOf(view.hover.end)));
      for (const target of view.hover.targets.slice(0, 50)) {
        const tRow = rows.rowOf.get(target);
        const ti = store.index.get(target);
        if (tRow === undefined || ti === undefined) continue;
        const tx = Math.max(view.labelW, Math.min(view.width, xOf(Math.min(view.hover.end, store.laneEnd(ti)))));
        arrow(x, clampY(rowY(row)), tx, clampY(rowY(tRow)), P.waiting, 0.95);
      }
    }
  }
}
