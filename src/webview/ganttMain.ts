// The timeline webview: a canvas Gantt chart of every task's life (lanes nested by creator), drawn with
// level of detail so a million steps pan and zoom at frame rate. Talks to ganttPanel.ts through the
// typed messages of ganttProtocol.ts; every string shown comes from the extension and is escaped
// (textContent / canvas text only, never innerHTML with data).
import type { FromWebview, GanttStats, GanttStrings, GanttViewState, ToWebview } from '../core/ganttProtocol';
import { WAIT_KINDS, END_STATES } from '../core/ganttProtocol';
import { LodOut, lodLane, lowerBound, upperBound } from '../core/ganttLod';
import { formatTick, formatTime, timeTicks } from '../core/ganttLayout';
import { formatDuration } from '../core/format';
import { GanttStore } from './ganttStore';

interface VsCodeApi { postMessage(m: FromWebview): void; getState(): unknown; setState(s: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const store = new GanttStore();

const ROW_H = 20;
const AXIS_H = 26;
const MIN_LABEL_W = 120;

let S: GanttStrings = {};
function t(key: string, ...args: (string | number)[]): string {
  const s = S[key] ?? key;
  return args.length ? s.replace(/\{(\d+)\}/g, (m, i: string) => (args[+i] !== undefined ? String(args[+i]) : m)) : s;
}

// ---------------------------------------------------------------- DOM

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, parent?: HTMLElement): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function iconButton(parent: HTMLElement, icon: string, action: () => void): HTMLButtonElement {
  const b = el('button', 'tool', parent);
  b.type = 'button';
  el('span', `codicon codicon-${icon}`, b).setAttribute('aria-hidden', 'true');
  b.addEventListener('click', action);
  return b;
}

const app = document.getElementById('app') ?? document.body;
const toolbar = el('div', 'toolbar', app);
toolbar.setAttribute('role', 'toolbar');
const runTitle = el('span', 'run-title', toolbar);
const liveBadge = el('span', 'live-badge', toolbar);
liveBadge.hidden = true;
const searchBox = el('input', 'search', toolbar);
searchBox.type = 'search';
const searchCount = el('span', 'search-count', toolbar);
searchCount.setAttribute('aria-live', 'polite');
const btnFit = iconButton(toolbar, 'screen-full', () => { fitAll(); userMoved(); });
const btnZoomIn = iconButton(toolbar, 'zoom-in', () => zoomAt(0.5, chartW() / 2));
const btnZoomOut = iconButton(toolbar, 'zoom-out', () => zoomAt(2, chartW() / 2));
const btnZoomTask = iconButton(toolbar, 'target', () => { if (selected !== null) zoomToTask(selected); });
const btnFollow = iconButton(toolbar, 'pin', () => setFollow(!follow));
const btnLegend = iconButton(toolbar, 'symbol-color', () => { legend.hidden = !legend.hidden; btnLegend.setAttribute('aria-pressed', String(!legend.hidden)); resize(); });
const readout = el('span', 'readout', toolbar);

const main = el('div', 'chart', app);
const canvas = el('canvas', 'canvas', main);
canvas.tabIndex = 0;
canvas.setAttribute('role', 'application');
const vscroll = el('div', 'vscroll', main);
const vspacer = el('div', 'vspacer', vscroll);
const tooltip = el('div', 'tooltip', main);
tooltip.setAttribute('role', 'tooltip');
tooltip.id = 'gantt-tooltip';
tooltip.hidden = true;
const emptyBox = el('div', 'empty', main);
emptyBox.hidden = true;
const legend = el('div', 'legend', app);
// Offscreen accessible summary: lanes on screen with their state (screen readers, tests).
const summary = el('div', 'visually-hidden', app);
summary.id = 'gantt-summary';
const summaryTitle = el('p', undefined, summary);
const laneList = el('ul', undefined, summary);
laneList.id = 'gantt-lanes';
const announcer = el('div', 'visually-hidden', app);
announcer.setAttribute('aria-live', 'polite');
announcer.id = 'gantt-announcer';

const ctx = canvas.getContext('2d', { alpha: false })!;

// ---------------------------------------------------------------- view state

let t0 = 0;
let upp = 1000; // microseconds per CSS pixel
let scrollTop = 0;
let follow = true;
let selected: number | null = null;
let hover: Hit | null = null;
let mouse: { x: number; y: number } | null = null;
let width = 0;
let height = 0;
let dpr = 1;
let labelW = 260;
let frames = 0;
let lastFrameMs = 0;
let slicesDrawn = 0;
let firstFrameMs: number | null = null;
let loadStart = 0;
let loaded = false;
let hasRun = false;
let fitted = false;
let drag: { x: number; y: number; t0: number; scrollTop: number; mode: 'pan' | 'range' | 'pending'; moved: boolean; startX: number } | null = null;
let rangeSel: { a: number; b: number } | null = null;
let searchMatches: number[] = [];
let searchPos = -1;

const lod = new LodOut();

function chartW(): number { return Math.max(1, width - labelW); }
function chartH(): number { return Math.max(1, height - AXIS_H); }
function xOf(ts: number): number { return labelW + (ts - t0) / upp; }
function tOf(x: number): number { return t0 + (x - labelW) * upp; }

// ---------------------------------------------------------------- colours

interface Palette {
  bg: string; fg: string; muted: string; grid: string; lane: string; sel: string; selFg: string; hover: string; focus: string;
  running: string; waiting: string; ready: string; done: string; cancelled: string; failed: string; timeout: string; block: string;
  io: string; sync: string; sw: string; other: string; asyncio: string; greenlet: string; tooltipBg: string; font: string;
  wait: (string | CanvasPattern)[];
}
let P: Palette;

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

function hatch(color: string, dir: 1 | -1 | 0): CanvasPattern | string {
  const c = document.createElement('canvas');
  c.width = c.height = 6;
  const g = c.getContext('2d');
  if (!g) return color;
  g.strokeStyle = color;
  g.lineWidth = 1.5;
  g.beginPath();
  if (dir >= 0) { g.moveTo(0, 6); g.lineTo(6, 0); }
  if (dir <= 0) { g.moveTo(0, 0); g.lineTo(6, 6); }
  g.stroke();
  return ctx.createPattern(c, 'repeat') ?? color;
}

function readPalette(): void {
  const st = getComputedStyle(document.documentElement);
  const bs = getComputedStyle(document.body);
  const v = (n: string, f: string): string => cssVar(st, n, cssVar(bs, n, f));
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  const waiting = v('--vscode-asyncTrace-waiting', dark ? '#569CD6' : '#0063B1');
  const io = v('--vscode-asyncTrace-timelineIo', v('--vscode-charts-purple', '#B180D7'));
  const sync = v('--vscode-asyncTrace-timelineSync', v('--vscode-charts-orange', '#D18616'));
  const sw = v('--vscode-asyncTrace-timelineSwitch', v('--vscode-charts-green', '#89D185'));
  const other = v('--vscode-charts-lines', dark ? '#888' : '#777');
  P = {
    bg: v('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'),
    fg: v('--vscode-editor-foreground', dark ? '#cccccc' : '#333333'),
    muted: v('--vscode-descriptionForeground', dark ? '#9d9d9d' : '#717171'),
    grid: v('--vscode-editorIndentGuide-background1', v('--vscode-editorIndentGuide-background', dark ? '#404040' : '#d3d3d3')),
    lane: v('--vscode-editorLineNumber-foreground', dark ? '#6e7681' : '#999999'),
    sel: v('--vscode-list-activeSelectionBackground', v('--vscode-list-inactiveSelectionBackground', dark ? '#04395e' : '#0060c0')),
    selFg: v('--vscode-list-activeSelectionForeground', dark ? '#ffffff' : '#ffffff'),
    hover: v('--vscode-list-hoverBackground', dark ? '#2a2d2e' : '#f0f0f0'),
    focus: v('--vscode-focusBorder', '#007fd4'),
    running: v('--vscode-asyncTrace-running', dark ? '#4EC9B0' : '#16825D'),
    waiting,
    ready: v('--vscode-asyncTrace-ready', dark ? '#C5A332' : '#9A7B00'),
    done: v('--vscode-asyncTrace-done', dark ? '#89D185' : '#388A34'),
    cancelled: v('--vscode-asyncTrace-cancelled', dark ? '#CCA700' : '#BF8803'),
    failed: v('--vscode-asyncTrace-failed', dark ? '#F14C4C' : '#E51400'),
    timeout: v('--vscode-asyncTrace-timeout', dark ? '#D18616' : '#B35900'),
    block: v('--vscode-asyncTrace-block', dark ? '#F14C4C' : '#E51400'),
    io, sync, sw, other,
    asyncio: v('--vscode-symbolIcon-functionForeground', dark ? '#B180D7' : '#652D90'),
    greenlet: v('--vscode-symbolIcon-eventForeground', dark ? '#EE9D28' : '#D67E00'),
    tooltipBg: v('--vscode-editorHoverWidget-background', dark ? '#252526' : '#f3f3f3'),
    font: `${v('--vscode-font-size', '12px')} ${v('--vscode-font-family', 'sans-serif')}`,
    wait: [],
  };
  // Index = wait kind code (WAIT_KINDS): other, sleep, task, gather, io, sync, switch, future, yield, hub.
  P.wait = [other, waiting, hatch(waiting, 1), hatch(waiting, 0), io, sync, hatch(sw, 1), waiting, other, sw];
  textCache.clear();
  buildLegend();
  requestDraw();
}

// ---------------------------------------------------------------- drawing

let drawPending = false;
function requestDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(); });
}

const textCache = new Map<number, { w: number; v: number; text: string }>();
function laneLabel(idx: number, maxW: number): string {
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
function fitText(text: string, maxW: number): string {
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

function stateOf(idx: number): string {
  const es = store.endState[idx];
  if (es) return t(END_STATES[es]);
  return t('alive');
}

/** Draws one frame; returns its duration in ms. */
function draw(): number {
  const start = performance.now();
  if (firstFrameMs === null && loaded && perfLog.length < 200) perfLog.push(`draw-start ${(start - loadStart).toFixed(1)}`);
  if (!P) readPalette();
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = P.bg;
  ctx.fillRect(0, 0, width, height);
  ctx.font = P.font;
  ctx.textBaseline = 'middle';
  slicesDrawn = 0;
  if (!hasRun) { finishFrame(start); return performance.now() - start; }

  store.ensureSorted();
  const rows = store.rows();
  const maxScroll = Math.max(0, rows.count * ROW_H - chartH());
  if (scrollTop > maxScroll) scrollTop = maxScroll;
  if (scrollTop < 0) scrollTop = 0;
  const r0 = Math.floor(scrollTop / ROW_H);
  const r1 = Math.min(rows.count, Math.ceil((scrollTop + chartH()) / ROW_H));
  const tL = tOf(labelW) - upp;
  const tR = tOf(width) + upp;
  const { step, ticks } = timeTicks(tL, tR, chartW());

  // Grid lines behind the lanes.
  ctx.strokeStyle = P.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const tk of ticks) { const x = Math.round(xOf(tk)) + 0.5; ctx.moveTo(x, AXIS_H); ctx.lineTo(x, height); }
  ctx.stroke();

  // Lanes.
  ctx.save();
  ctx.beginPath();
  ctx.rect(labelW, AXIS_H, chartW(), chartH());
  ctx.clip();
  const selRow = selected !== null ? rows.rowOf.get(selected) : undefined;
  for (let r = r0; r < r1; r++) {
    const y = AXIS_H + r * ROW_H - scrollTop;
    const idx = store.index.get(rows.ids[r])!;
    if (r === selRow) { ctx.fillStyle = P.hover; ctx.fillRect(labelW, y, chartW(), ROW_H); }
    else if (hover && hover.row === r) { ctx.globalAlpha = 0.5; ctx.fillStyle = P.hover; ctx.fillRect(labelW, y, chartW(), ROW_H); ctx.globalAlpha = 1; }
    drawLane(idx, y, tL, tR);
  }
  drawLinks(rows, r0, r1);
  if (rangeSel) {
    const a = Math.min(rangeSel.a, rangeSel.b), b = Math.max(rangeSel.a, rangeSel.b);
    ctx.globalAlpha = 0.2; ctx.fillStyle = P.focus; ctx.fillRect(a, AXIS_H, b - a, chartH()); ctx.globalAlpha = 1;
  }
  if (mouse && mouse.x > labelW) {
    ctx.strokeStyle = P.muted; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(Math.round(mouse.x) + 0.5, AXIS_H); ctx.lineTo(Math.round(mouse.x) + 0.5, height); ctx.stroke();
    ctx.setLineDash([]);
  }
  if (store.live) {
    const xn = xOf(store.now);
    if (xn >= labelW && xn <= width) { ctx.strokeStyle = P.ready; ctx.beginPath(); ctx.moveTo(xn, AXIS_H); ctx.lineTo(xn, height); ctx.stroke(); }
  }
  ctx.restore();

  // Labels.
  ctx.save();
  ctx.beginPath();
  ctx.rect(0, AXIS_H, labelW, chartH());
  ctx.clip();
  ctx.fillStyle = P.bg;
  ctx.fillRect(0, AXIS_H, labelW, chartH());
  for (let r = r0; r < r1; r++) {
    const y = AXIS_H + r * ROW_H - scrollTop;
    const id = rows.ids[r];
    const idx = store.index.get(id)!;
    const isSel = r === selRow;
    if (isSel) { ctx.fillStyle = P.sel; ctx.fillRect(0, y, labelW, ROW_H); }
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
    // Kind glyph: a disc for asyncio tasks, a diamond for greenlets.
    const gx = indent + 16, gy = y + ROW_H / 2;
    ctx.fillStyle = store.kind[idx] ? P.greenlet : P.asyncio;
    ctx.beginPath();
    if (store.kind[idx]) { ctx.moveTo(gx, gy - 5); ctx.lineTo(gx + 5, gy); ctx.lineTo(gx, gy + 5); ctx.lineTo(gx - 5, gy); ctx.closePath(); }
    else ctx.arc(gx, gy, 4, 0, Math.PI * 2);
    ctx.fill();
    const es = store.endState[idx];
    ctx.fillStyle = es === 3 ? P.failed : fg;
    ctx.fillText(laneLabel(idx, labelW - indent - 30), indent + 26, y + ROW_H / 2 + 1);
  }
  ctx.restore();
  ctx.strokeStyle = P.grid;
  ctx.beginPath(); ctx.moveTo(labelW - 0.5, 0); ctx.lineTo(labelW - 0.5, height); ctx.stroke();

  // Axis.
  ctx.fillStyle = P.bg;
  ctx.fillRect(0, 0, width, AXIS_H);
  ctx.strokeStyle = P.grid;
  ctx.beginPath(); ctx.moveTo(0, AXIS_H - 0.5); ctx.lineTo(width, AXIS_H - 0.5); ctx.stroke();
  ctx.save();
  ctx.beginPath(); ctx.rect(labelW, 0, chartW(), AXIS_H); ctx.clip();
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
  ctx.fillText(fitText(t('lanesSummary', store.label, store.taskCount, rows.count), labelW - 12), 6, AXIS_H / 2);

  finishFrame(start);
  return performance.now() - start;
}

function finishFrame(start: number): void {
  frames++;
  lastFrameMs = performance.now() - start;
  if (firstFrameMs === null && loaded) firstFrameMs = performance.now() - loadStart;
  // Only frames of fully loaded data are reported (tests and the bench read them).
  if (loaded) scheduleReport();
}

function drawLane(idx: number, y: number, tL: number, tR: number): void {
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
  const la = Math.max(xOf(created), labelW - 2), lb = Math.min(xOf(laneEnd), width + 2);
  ctx.fillRect(la, mid - 0.5, Math.max(1, lb - la), 1);

  const wait = (after: number, a: number, b: number, woke: number): void => {
    if (b <= a) return;
    const w = lWait[after];
    if (w < 0) return;
    const kind = store.awaits[w]?.[1] ?? 0;
    const xa = Math.max(xOf(a), labelW - 2), xb = Math.min(xOf(b), width + 2);
    if (xb - xa < 0.5) return;
    const readyFrom = Number.isNaN(woke) ? b : Math.max(a, Math.min(b, woke));
    const xr = Math.min(xOf(readyFrom), xb);
    ctx.globalAlpha = 0.75;
    ctx.fillStyle = P.wait[kind] ?? P.waiting;
    if (xr > xa) ctx.fillRect(xa, mid - waitH / 2, xr - xa, waitH);
    if (xb > xr) { ctx.fillStyle = P.ready; ctx.fillRect(Math.max(xr, xa), mid - waitH / 2, xb - Math.max(xr, xa), waitH); }
    ctx.globalAlpha = 1;
    slicesDrawn++;
  };

  let k = lowerBound(lEnd, lo, hi, tL);
  let prev = -1;
  let prevEnd = 0;
  if (k > lo) { prev = k - 1; prevEnd = lEnd[prev]; }
  else {
    // Created, not started yet: until the first step (or the end).
    const a = created, b = hi > lo ? lTs[lo] : laneEnd;
    const xa = Math.max(xOf(a), labelW - 2), xb = Math.min(xOf(b), width + 2);
    if (xb - xa >= 0.5) { ctx.globalAlpha = 0.45; ctx.fillStyle = P.ready; ctx.fillRect(xa, mid - waitH / 4, xb - xa, waitH / 2); ctx.globalAlpha = 1; }
  }
  lod.reset();
  const bars = lodLane(lTs, lEnd, store.lCum, lo, hi, tL, tR, upp, lod);
  for (let b = 0; b < bars; b++) {
    const s = lod.start[b], e = lod.end[b], f = lod.first[b], l = lod.last[b];
    if (prev >= 0) wait(prev, prevEnd, s, lWoke[f]);
    const xa = xOf(s);
    const w = Math.max(1, (e - s) / upp);
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
    slicesDrawn++;
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

function drawMarkers(idx: number, y: number, tL: number, tR: number): void {
  const id = store.id[idx];
  const mid = y + ROW_H / 2;
  // Blocking steps: a bar along the bottom edge, at least 3 px wide so it stands out at any zoom.
  const blocks = store.blocksByTask.get(id);
  if (blocks) {
    ctx.fillStyle = P.block;
    for (const b of blocks) {
      if (b.ts + b.dur < tL || b.ts > tR) continue;
      ctx.fillRect(xOf(b.ts), y + ROW_H - 4, Math.max(3, b.dur / upp), 3);
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

function diamond(x: number, y: number, r: number, color: string): void {
  ctx.fillStyle = color;
  ctx.beginPath(); ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); ctx.closePath(); ctx.fill();
}

function rowY(row: number): number { return AXIS_H + row * ROW_H - scrollTop + ROW_H / 2; }

/** Arrow from (x1,y1) to (x2,y2); rows off screen clamp to the chart's edge. */
function arrow(x1: number, y1: number, x2: number, y2: number, color: string, alpha = 1): void {
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

function clampY(y: number): number { return Math.max(AXIS_H, Math.min(height, y)); }

/** Creator -> child, awaiting -> awaited, fired timeout -> cancelled: for the selected/hovered task (all links when few tasks). */
function drawLinks(rows: ReturnType<GanttStore['rows']>, r0: number, r1: number): void {
  const focus = new Set<number>();
  if (selected !== null) focus.add(selected);
  if (hover) focus.add(hover.task);
  const few = store.taskCount <= 40;
  if (few) for (let r = r0; r < r1; r++) focus.add(rows.ids[r]);
  for (const id of focus) {
    const idx = store.index.get(id);
    if (idx === undefined) continue;
    const row = rows.rowOf.get(id);
    const strong = id === selected || (hover !== null && hover.task === id);
    const alpha = strong ? 0.95 : 0.35;
    // Creator -> this task at its creation time.
    const p = store.parent[idx];
    const pRow = p >= 0 ? rows.rowOf.get(p) : undefined;
    if (row !== undefined && pRow !== undefined) {
      const x = xOf(store.created[idx]);
      if (x >= labelW && x <= width) arrow(x, clampY(rowY(pRow)), x, clampY(rowY(row) - 5), P.muted, alpha);
    }
    if (!strong && !few) continue;
    // This task -> its children.
    if (row !== undefined) {
      for (const c of store.children(id)) {
        const cRow = rows.rowOf.get(c);
        const ci = store.index.get(c);
        // With few tasks every visible child already drew its own creator link above.
        if (cRow === undefined || ci === undefined || (cRow >= r0 && cRow < r1 && few)) continue;
        const x = xOf(store.created[ci]);
        if (x >= labelW && x <= width) arrow(x, clampY(rowY(row)), x, clampY(rowY(cRow) - 5), P.muted, alpha);
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
  if (hover && hover.kind === 'wait' && hover.targets.length) {
    const row = rows.rowOf.get(hover.task);
    if (row !== undefined) {
      const x = Math.max(labelW, Math.min(width, xOf(hover.end)));
      for (const target of hover.targets.slice(0, 50)) {
        const tRow = rows.rowOf.get(target);
        const ti = store.index.get(target);
        if (tRow === undefined || ti === undefined) continue;
        const tx = Math.max(labelW, Math.min(width, xOf(Math.min(hover.end, store.laneEnd(ti)))));
        arrow(x, clampY(rowY(row)), tx, clampY(rowY(tRow)), P.waiting, 0.95);
      }
    }
  }
}

// ---------------------------------------------------------------- hit testing and tooltips

interface Hit {
  row: number;
  task: number;
  kind: 'run' | 'merged' | 'wait' | 'ready' | 'scheduled' | 'timeout' | 'cancel' | 'end' | 'block' | 'label';
  start: number;
  end: number;
  /** Site to open on click, -1 none. */
  site: number;
  lines: string[];
  targets: number[];
}

function siteText(site: number): string {
  const s = store.sites.get(site);
  if (!s) return '';
  const file = s.file.split(/[\\/]/).pop() ?? s.file;
  return s.func ? `${file}:${s.line} (${s.func})` : `${file}:${s.line}`;
}

function taskTitle(idx: number): string {
  const name = store.name[idx];
  const coro = store.coro[idx];
  const kind = store.kind[idx] ? t('greenlet') : t('asyncio');
  return `${name}${coro && coro !== name ? ` · ${coro}` : ''} — ${kind}`;
}

function waitText(awaitId: number): { text: string; site: number; targets: number[] } {
  const a = store.awaits[awaitId];
  if (!a) return { text: '', site: -1, targets: [] };
  const [site, kind, detail, targets] = a;
  let text = t(`wait.${WAIT_KINDS[kind] ?? 'other'}`);
  if (kind === 0 && detail) text = detail;
  else if (detail) text += ` ${detail}`;
  if (targets.length) {
    const names = targets.slice(0, 5).map((id) => { const i = store.index.get(id); return i === undefined ? `#${id}` : store.name[i]; });
    text += `: ${names.join(', ')}${targets.length > 5 ? ` (+${targets.length - 5})` : ''}`;
  }
  return { text, site, targets };
}

function hitTest(x: number, y: number): Hit | null {
  if (y < AXIS_H || !hasRun) return null;
  const rows = store.rows();
  const row = Math.floor((y - AXIS_H + scrollTop) / ROW_H);
  if (row < 0 || row >= rows.count) return null;
  const id = rows.ids[row];
  const idx = store.index.get(id)!;
  const base = { row, task: id, targets: [] as number[] };
  if (x < labelW) {
    return { ...base, kind: 'label', start: store.created[idx], end: store.laneEnd(idx), site: store.site[idx], lines: [taskTitle(idx), `${t('state')}: ${stateOf(idx)}`, ...(store.site[idx] >= 0 ? [`${t('createdAt')}: ${siteText(store.site[idx])}`] : []), ...(store.error[idx] ? [`${t('error')}: ${store.error[idx]}`] : [])] };
  }
  const tm = tOf(x);
  const tol = 3 * upp;
  const title = taskTitle(idx);
  // Point markers first: they sit on top of the bars.
  for (const to of store.timeoutsByTask.get(id) ?? []) {
    const at = to.state === 'fired' && to.endTs !== null ? to.endTs : to.armed;
    if (Math.abs(at - tm) <= tol || Math.abs(to.armed - tm) <= tol) {
      const fired = to.state === 'fired' && Math.abs((to.endTs ?? 0) - tm) <= tol;
      const lines = [title, fired ? t('timeoutFired') : t('timeoutArmed'), `${t('start')}: ${formatTime(to.armed, upp)}`];
      if (to.delay !== null) lines.push(`${t('duration')}: ${formatDuration(to.delay * 1e6)}`);
      if (to.site >= 0) lines.push(`${t('site')}: ${siteText(to.site)}`);
      return { ...base, kind: 'timeout', start: to.armed, end: to.endTs ?? to.armed, site: to.site, lines, targets: fired ? to.cancelled : [] };
    }
  }
  for (const c of store.cancelsByTask.get(id) ?? []) {
    if (Math.abs(c.ts - tm) <= tol) {
      const by = c.by >= 0 ? store.index.get(c.by) : undefined;
      const lines = [title, t('cancelRequested'), `${t('start')}: ${formatTime(c.ts, upp)}`, `${t('cause')}: ${c.cause}${by !== undefined ? ` (${store.name[by]})` : ''}`];
      if (c.site >= 0) lines.push(`${t('site')}: ${siteText(c.site)}`);
      return { ...base, kind: 'cancel', start: c.ts, end: c.ts, site: c.site, lines };
    }
  }
  const e = store.end[idx];
  if (!Number.isNaN(e) && Math.abs(e - tm) <= tol) {
    const lines = [title, `${t('ended')}: ${stateOf(idx)}`, `${t('start')}: ${formatTime(e, upp)}`];
    if (store.error[idx]) lines.push(`${t('error')}: ${store.error[idx]}`);
    const es = store.errorSite[idx];
    if (es >= 0) lines.push(`${t('site')}: ${siteText(es)}`);
    return { ...base, kind: 'end', start: e, end: e, site: es >= 0 ? es : store.site[idx], lines };
  }
  for (const b of store.blocksByTask.get(id) ?? []) {
    if (tm >= b.ts - tol && tm <= b.ts + b.dur + tol && y > AXIS_H + row * ROW_H - scrollTop + ROW_H - 6) {
      const lines = [title, t('blocking', formatDuration(b.dur)), `${t('start')}: ${formatTime(b.ts, upp)}`, `${t('duration')}: ${formatDuration(b.dur)}`];
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
  if (b - a > 1 && (lEnd[b - 1] - lTs[a]) / upp < (b - a) * 2) {
    let run = 0;
    for (let i = a; i < b && i < a + 100_000; i++) run += lEnd[i] - lTs[i];
    const span = lEnd[b - 1] - lTs[a];
    const lines = [title, t('merged', b - a, formatDuration(run), formatDuration(span)), `${t('start')}: ${formatTime(lTs[a], upp)}`];
    return { ...base, kind: 'merged', start: lTs[a], end: lEnd[b - 1], site: -1, lines };
  }
  const k = upperBound(lTs, lo, hi, tm) - 1;
  const created = store.created[idx];
  const laneEnd = store.laneEnd(idx);
  if (k >= lo && tm <= lEnd[k] + (lEnd[k] - lTs[k] < upp ? tol : 0)) {
    const dur = lEnd[k] - lTs[k];
    const blocking = dur >= store.blockUs;
    const w = store.lWait[k];
    const lines = [title, blocking ? t('blocking', formatDuration(dur)) : t('running'), `${t('start')}: ${formatTime(lTs[k], upp)}`, `${t('duration')}: ${formatDuration(dur)}`];
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
      const lines = [title, isReady ? t('ready') : `${t('waiting')}`, `${t('start')}: ${formatTime(start, upp)}`, `${t('duration')}: ${formatDuration(end - start)}${k + 1 >= hi && Number.isNaN(store.end[idx]) ? '+' : ''}`];
      if (wt.site >= 0) lines.push(`${t('site')}: ${siteText(wt.site)}`);
      if (wt.text) lines.push(`${t('waitedOn')}: ${wt.text}`);
      return { ...base, kind: isReady ? 'ready' : 'wait', start, end, site: wt.site >= 0 ? wt.site : store.site[idx], lines, targets: wt.targets };
    }
    return null;
  }
  const first = hi > lo ? lTs[lo] : laneEnd;
  if (tm >= created - tol && tm <= first) {
    const lines = [title, t('scheduled'), `${t('start')}: ${formatTime(created, upp)}`, `${t('duration')}: ${formatDuration(first - created)}`];
    if (store.site[idx] >= 0) lines.push(`${t('createdAt')}: ${siteText(store.site[idx])}`);
    return { ...base, kind: 'scheduled', start: created, end: first, site: store.site[idx], lines };
  }
  return null;
}

function showTooltip(h: Hit | null, x: number, y: number): void {
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

// ---------------------------------------------------------------- navigation

function clampView(): void {
  const span = Math.max(1, store.maxTs - Math.min(store.minTs, store.maxTs));
  upp = Math.min(Math.max(upp, 0.001), (span * 20) / chartW());
}

function fitAll(): void {
  const lo = Number.isFinite(store.minTs) ? store.minTs : 0;
  const hi = Math.max(store.maxTs, store.now, lo + 1);
  const span = hi - lo;
  upp = (span * 1.04) / chartW();
  t0 = lo - span * 0.02;
  requestDraw();
  saveState();
}

function zoomAt(factor: number, px: number): void {
  const tm = t0 + px * upp;
  upp *= factor;
  clampView();
  t0 = tm - px * upp;
  userMoved();
  requestDraw();
}

function panBy(dxPx: number): void {
  t0 += dxPx * upp;
  userMoved();
  requestDraw();
}

function userMoved(): void {
  if (follow && store.live) setFollow(false);
  saveState();
}

function setFollow(on: boolean): void {
  follow = on;
  btnFollow.setAttribute('aria-pressed', String(on));
  btnFollow.classList.toggle('on', on);
  if (on) followNow();
  saveState();
}

/** Keeps "now" in view while live: the whole run while it fits, else the latest part at this zoom. */
function followNow(): void {
  if (!store.live || !follow) return;
  const lo = Number.isFinite(store.minTs) ? store.minTs : 0;
  const now = Math.max(store.now, store.maxTs);
  if ((now - lo) * 1.05 <= chartW() * upp * 4 || !fitted) {
    fitAll();
    fitted = true;
  } else {
    t0 = now - chartW() * upp * 0.95;
  }
  requestDraw();
}

function zoomToTask(id: number): void {
  const idx = store.index.get(id);
  if (idx === undefined) return;
  const a = store.created[idx];
  const b = Math.max(store.laneEnd(idx), a + 1);
  const span = b - a;
  upp = (span * 1.1) / chartW();
  clampView();
  t0 = a - span * 0.05;
  scrollToTask(id);
  userMoved();
  requestDraw();
}

function scrollToTask(id: number): void {
  store.revealRow(id);
  const rows = store.rows();
  const row = rows.rowOf.get(id);
  if (row === undefined) return;
  const y = row * ROW_H;
  if (y < scrollTop || y + ROW_H > scrollTop + chartH()) scrollTop = Math.max(0, y - chartH() / 2);
  syncScrollbar();
  // Bring the task's life into view without changing the zoom.
  const idx = store.index.get(id)!;
  const a = store.created[idx], b = store.laneEnd(idx);
  const l = tOf(labelW), r = tOf(width);
  if (b < l || a > r) { t0 = a - chartW() * upp * 0.1; userMoved(); }
}

function select(id: number | null, notify: boolean, openSite = -1): void {
  selected = id;
  if (id !== null) {
    scrollToTask(id);
    const idx = store.index.get(id);
    if (idx !== undefined) announcer.textContent = `${taskTitle(idx)}, ${stateOf(idx)}`;
    if (notify) vscode.postMessage({ type: 'select', taskId: id });
    if (openSite >= 0) vscode.postMessage({ type: 'open', taskId: id, siteId: openSite });
  }
  requestDraw();
}

function moveSelection(delta: number): void {
  const rows = store.rows();
  if (!rows.count) return;
  let r = selected !== null ? rows.rowOf.get(selected) ?? -1 : -1;
  r = Math.max(0, Math.min(rows.count - 1, r < 0 ? 0 : r + delta));
  select(rows.ids[r], true);
}

function runSearch(next: boolean): void {
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

// ---------------------------------------------------------------- events

function syncScrollbar(): void {
  const rows = hasRun ? store.rows().count : 0;
  vspacer.style.height = `${rows * ROW_H + AXIS_H}px`;
  if (Math.abs(vscroll.scrollTop - scrollTop) > 1) vscroll.scrollTop = scrollTop;
}

vscroll.addEventListener('scroll', () => {
  if (Math.abs(vscroll.scrollTop - scrollTop) > 1) { scrollTop = vscroll.scrollTop; requestDraw(); saveState(); }
});

canvas.addEventListener('wheel', (e) => {
  e.preventDefault();
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left;
  const dy = e.deltaMode === 1 ? e.deltaY * ROW_H : e.deltaY;
  const dx = e.deltaMode === 1 ? e.deltaX * ROW_H : e.deltaX;
  if (x < labelW || e.altKey) {
    // Over the labels (or with Alt): scroll the lanes.
    scrollTop += dy;
    syncScrollbar();
    requestDraw();
    saveState();
  } else if (e.shiftKey || Math.abs(dx) > Math.abs(dy)) {
    panBy(e.shiftKey ? dy || dx : dx);
  } else {
    // Wheel and pinch (ctrl+wheel) zoom around the cursor.
    const f = Math.exp(dy * (e.ctrlKey ? 0.01 : 0.002));
    zoomAt(f, x - labelW);
  }
}, { passive: false });

canvas.addEventListener('mousedown', (e) => {
  if (e.button !== 0) return;
  canvas.focus();
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left, y = e.clientY - rect.top;
  const onAxis = y < AXIS_H && x > labelW;
  drag = { x, y, t0, scrollTop, mode: onAxis || e.shiftKey ? 'range' : 'pending', moved: false, startX: x };
  if (drag.mode === 'range') rangeSel = { a: x, b: x };
});

window.addEventListener('mousemove', (e) => {
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left, y = e.clientY - rect.top;
  if (drag) {
    const dx = x - drag.x, dy = y - drag.y;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    if (drag.mode === 'range') { rangeSel = { a: Math.max(labelW, drag.startX), b: Math.max(labelW, Math.min(width, x)) }; requestDraw(); return; }
    if (drag.moved) {
      drag.mode = 'pan';
      t0 = drag.t0 - dx * upp;
      scrollTop = Math.max(0, drag.scrollTop - dy);
      syncScrollbar();
      tooltip.hidden = true;
      userMoved();
      requestDraw();
    }
    return;
  }
  if (x < 0 || y < 0 || x > width || y > height) return;
  mouse = { x, y };
  readout.textContent = x > labelW ? t('cursor', formatTime(tOf(x), upp)) : '';
  const h = hitTest(x, y);
  const changed = (h?.task ?? null) !== (hover?.task ?? null) || h?.kind !== hover?.kind || h?.start !== hover?.start;
  hover = h;
  if (changed) showTooltip(h, x, y);
  else if (h) showTooltip(h, x, y);
  canvas.style.cursor = h && h.site >= 0 ? 'pointer' : 'default';
  requestDraw();
});

canvas.addEventListener('mouseleave', () => {
  if (drag) return;
  mouse = null;
  hover = null;
  tooltip.hidden = true;
  readout.textContent = '';
  requestDraw();
});

window.addEventListener('mouseup', (e) => {
  if (!drag) return;
  const d = drag;
  drag = null;
  if (d.mode === 'range' && rangeSel) {
    const a = Math.min(rangeSel.a, rangeSel.b), b = Math.max(rangeSel.a, rangeSel.b);
    rangeSel = null;
    if (b - a > 4) {
      const ta = tOf(a), tb = tOf(b);
      upp = (tb - ta) / chartW();
      clampView();
      t0 = ta;
      userMoved();
    }
    requestDraw();
    return;
  }
  if (d.moved) return;
  // A click.
  const rect = canvas.getBoundingClientRect();
  const x = e.clientX - rect.left, y = e.clientY - rect.top;
  const h = hitTest(x, y);
  if (!h) return;
  if (h.kind === 'label') {
    const rows = store.rows();
    const depth = rows.depth[h.row];
    const indent = 6 + Math.min(depth, 12) * 12;
    if (rows.hasChildren[h.row] && x >= indent - 4 && x <= indent + 12) { store.toggle(h.task); syncScrollbar(); saveState(); requestDraw(); return; }
    select(h.task, true);
    return;
  }
  select(h.task, true, h.site);
});

canvas.addEventListener('dblclick', (e) => {
  const rect = canvas.getBoundingClientRect();
  const h = hitTest(e.clientX - rect.left, e.clientY - rect.top);
  // Double-click on a name opens where the task was created (a single click only selects it).
  if (h && h.kind === 'label' && h.site >= 0) vscode.postMessage({ type: 'open', taskId: h.task, siteId: h.site });
});

canvas.addEventListener('keydown', (e) => {
  const step = chartW() * 0.1;
  switch (e.key) {
    case 'ArrowUp': moveSelection(-1); break;
    case 'ArrowDown': moveSelection(1); break;
    case 'PageUp': moveSelection(-Math.floor(chartH() / ROW_H)); break;
    case 'PageDown': moveSelection(Math.floor(chartH() / ROW_H)); break;
    case 'Home': moveSelection(-1e9); break;
    case 'End': moveSelection(1e9); break;
    case 'ArrowLeft': panBy(-step); break;
    case 'ArrowRight': panBy(step); break;
    case '+': case '=': zoomAt(0.5, chartW() / 2); break;
    case '-': case '_': zoomAt(2, chartW() / 2); break;
    case 'f': case 'F': case '0': fitAll(); userMoved(); break;
    case 'z': case 'Z': if (selected !== null) zoomToTask(selected); break;
    case ' ':
      if (selected !== null) { store.toggle(selected); syncScrollbar(); saveState(); requestDraw(); }
      break;
    case 'Enter':
      if (selected !== null) {
        const idx = store.index.get(selected);
        if (idx !== undefined && store.site[idx] >= 0) vscode.postMessage({ type: 'open', taskId: selected, siteId: store.site[idx] });
      }
      break;
    default: return;
  }
  e.preventDefault();
});

searchBox.addEventListener('input', () => runSearch(false));
searchBox.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') { e.preventDefault(); runSearch(true); }
  if (e.key === 'Escape') { searchBox.value = ''; runSearch(false); canvas.focus(); }
});

function resize(): void {
  const r = main.getBoundingClientRect();
  dpr = window.devicePixelRatio || 1;
  const oldChartW = width > 0 ? chartW() : 0;
  width = Math.max(1, Math.floor(r.width));
  height = Math.max(1, Math.floor(r.height));
  canvas.width = Math.floor(width * dpr);
  canvas.height = Math.floor(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  labelW = Math.max(MIN_LABEL_W, Math.min(320, Math.floor(width * 0.3)));
  // Keep the visible time range when the panel is resized (split, sidebar toggled).
  if (fitted && oldChartW > 1 && chartW() > 1 && oldChartW !== chartW()) upp = (upp * oldChartW) / chartW();
  textCache.clear();
  syncScrollbar();
  if (!fitted && hasRun && loaded) { fitAll(); fitted = true; }
  requestDraw();
}
new ResizeObserver(resize).observe(main);
window.addEventListener('resize', resize);
// A window moved to a screen with another pixel density: re-rasterize at the new ratio.
function watchPixelRatio(): void {
  matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', () => { resize(); buildLegend(); watchPixelRatio(); }, { once: true });
}
watchPixelRatio();

// Theme changes: VS Code swaps body classes and the --vscode-* variables on <html>.
const themeObserver = new MutationObserver(() => readPalette());
themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });

// ---------------------------------------------------------------- legend, summary, state

function buildLegend(): void {
  legend.textContent = '';
  const add = (label: string, paint: (g: CanvasRenderingContext2D) => void): void => {
    const item = el('span', 'legend-item', legend);
    const c = el('canvas', 'swatch', item);
    c.width = 28 * dpr; c.height = 12 * dpr;
    c.style.width = '28px'; c.style.height = '12px';
    const g = c.getContext('2d');
    if (g) { g.scale(dpr, dpr); paint(g); }
    el('span', undefined, item).textContent = label;
  };
  const rect = (color: string | CanvasPattern, h = 8) => (g: CanvasRenderingContext2D) => { g.fillStyle = color; g.fillRect(0, 6 - h / 2, 28, h); };
  add(t('running'), rect(P.running, 10));
  add(t('ready'), rect(P.ready, 5));
  WAIT_KINDS.forEach((k, i) => {
    if (k === 'future' || k === 'yield' || k === 'other') return;
    add(`${t('waiting')}: ${t(`wait.${k}`)}`, (g) => { g.fillStyle = hatchFor(g, i); g.fillRect(0, 3.5, 28, 5); });
  });
  add(t('blockingLegend'), rect(P.block, 10));
  add(t('timeoutArmed'), (g) => { g.fillStyle = P.timeout; g.fillRect(2, 2, 24, 1.5); g.fillRect(2, 1, 1.5, 5); });
  add(t('timeoutFired'), (g) => { g.fillStyle = P.timeout; g.beginPath(); g.moveTo(14, 2); g.lineTo(18, 6); g.lineTo(14, 10); g.lineTo(10, 6); g.fill(); });
  add(t('cancelRequested'), (g) => { g.strokeStyle = P.cancelled; g.lineWidth = 2; g.beginPath(); g.moveTo(11, 3); g.lineTo(17, 9); g.moveTo(17, 3); g.lineTo(11, 9); g.stroke(); });
  add(`${t('ended')}: ${t('done')} / ${t('cancelled')} / ${t('failed')}`, (g) => {
    [P.done, P.cancelled, P.failed].forEach((c, i) => { g.fillStyle = c; g.beginPath(); g.arc(5 + i * 9, 6, 4, 0, Math.PI * 2); g.fill(); });
  });
  add(`${t('asyncio')} / ${t('greenlet')}`, (g) => {
    g.fillStyle = P.asyncio; g.beginPath(); g.arc(7, 6, 4, 0, Math.PI * 2); g.fill();
    g.fillStyle = P.greenlet; g.beginPath(); g.moveTo(20, 1); g.lineTo(25, 6); g.lineTo(20, 11); g.lineTo(15, 6); g.fill();
  });
  el('span', 'legend-note', legend).textContent = t('links');
}

function hatchFor(g: CanvasRenderingContext2D, kind: number): string | CanvasPattern {
  const p = P.wait[kind];
  if (typeof p === 'string') return p;
  // Patterns belong to the main canvas context; rebuild one for the swatch.
  const base = kind === 6 ? P.sw : P.waiting;
  const c = document.createElement('canvas');
  c.width = c.height = 6;
  const h = c.getContext('2d')!;
  h.strokeStyle = base; h.lineWidth = 1.5; h.beginPath();
  if (kind !== 3) { h.moveTo(0, 6); h.lineTo(6, 0); } else { h.moveTo(0, 6); h.lineTo(6, 0); h.moveTo(0, 0); h.lineTo(6, 6); }
  h.stroke();
  return g.createPattern(c, 'repeat') ?? base;
}

let reportTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleReport(): void {
  if (reportTimer) return;
  reportTimer = setTimeout(() => { reportTimer = undefined; report(); }, 120);
}

function collectStats(): GanttStats {
  if (hasRun) store.ensureSorted();
  const rows = hasRun ? store.rows() : undefined;
  const lanes: GanttStats['visibleLanes'] = [];
  if (rows) {
    const r0 = Math.floor(scrollTop / ROW_H);
    const r1 = Math.min(rows.count, Math.ceil((scrollTop + chartH()) / ROW_H));
    for (let r = r0; r < r1; r++) {
      const idx = store.index.get(rows.ids[r])!;
      lanes.push({
        id: rows.ids[r], name: store.name[idx], coro: store.coro[idx], kind: store.kind[idx] ? 'greenlet' : 'asyncio',
        state: END_STATES[store.endState[idx]] || 'alive', depth: rows.depth[r], y: AXIS_H + r * ROW_H - scrollTop + ROW_H / 2,
        slices: store.laneStart[idx + 1] - store.laneStart[idx],
      });
    }
  }
  return {
    runKey: store.runKey, frames, lastFrameMs, slicesDrawn, visibleLanes: lanes, totalLanes: rows?.count ?? 0, steps: store.n,
    t0: tOf(labelW), t1: tOf(width), usPerPx: upp, labelW, axisH: AXIS_H, follow, selected, tooltip: tooltip.hidden ? null : tooltip.textContent, firstFrameMs,
    colors: { background: P.bg, running: P.running, waiting: P.waiting },
  };
}

function report(): void {
  const stats = collectStats();
  // Accessible summary of what is on screen.
  summaryTitle.textContent = hasRun ? t('lanesSummary', store.label, store.taskCount, stats.totalLanes) : emptyBox.textContent ?? '';
  laneList.textContent = '';
  for (const l of stats.visibleLanes) {
    const li = el('li', undefined, laneList);
    li.dataset.taskId = String(l.id);
    li.dataset.y = String(Math.round(l.y));
    const idx = store.index.get(l.id)!;
    li.textContent = t('laneSummary', store.name[idx], store.coro[idx], store.kind[idx] ? t('greenlet') : t('asyncio'), stateOf(idx), l.slices);
    if (l.id === selected) li.setAttribute('aria-current', 'true');
  }
  if (loaded) vscode.postMessage({ type: 'stats', stats });
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function saveState(): void {
  if (saveTimer) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    const s: GanttViewState = { runKey: store.runKey, file: currentFile, t0, usPerPx: upp, scrollTop, follow, collapsed: [...store.collapsed] };
    vscode.setState(s);
  }, 300);
}
let currentFile: string | undefined;

function applyStrings(): void {
  searchBox.placeholder = t('search');
  searchBox.setAttribute('aria-label', t('search'));
  const tip = (b: HTMLButtonElement, key: string): void => { b.title = t(key); b.setAttribute('aria-label', t(key)); };
  tip(btnFit, 'fitAll'); tip(btnZoomIn, 'zoomIn'); tip(btnZoomOut, 'zoomOut'); tip(btnZoomTask, 'zoomToTask');
  tip(btnFollow, 'follow'); tip(btnLegend, 'legend');
  btnLegend.setAttribute('aria-pressed', String(!legend.hidden));
  canvas.setAttribute('aria-label', `${t('title')}. ${t('keyboardHelp')}`);
  canvas.setAttribute('aria-describedby', 'gantt-summary');
  liveBadge.textContent = t('live');
}

// ---------------------------------------------------------------- messages

function onMessage(m: ToWebview): void {
  switch (m.type) {
    case 'reset': {
      loadStart = performance.now();
      loaded = false;
      firstFrameMs = null;
      S = m.strings;
      applyStrings();
      store.reset(m.runKey, m.label, m.live, m.now, m.blockMs);
      hasRun = true;
      emptyBox.hidden = true;
      canvas.hidden = false;
      runTitle.textContent = m.label;
      liveBadge.hidden = !m.live;
      selected = null;
      hover = null;
      // Our own saved state wins (hide/show of the panel), then what the extension restored.
      const own = vscode.getState() as GanttViewState | undefined;
      const r = own && own.runKey === m.runKey ? own : m.restore && m.restore.runKey === m.runKey ? m.restore : undefined;
      currentFile = m.restore?.file;
      fitted = false;
      follow = m.live;
      if (r && typeof r.usPerPx === 'number' && typeof r.t0 === 'number') {
        upp = r.usPerPx; t0 = r.t0; scrollTop = r.scrollTop ?? 0; follow = r.follow ?? follow; fitted = true;
        for (const id of r.collapsed ?? []) store.collapsed.add(id);
      } else scrollTop = 0;
      btnFollow.hidden = !m.live;
      setFollowButton();
      buildLegend();
      return;
    }
    case 'empty':
      S = m.strings;
      applyStrings();
      hasRun = false;
      store.reset('', '', false, 0, 100);
      runTitle.textContent = '';
      liveBadge.hidden = true;
      btnFollow.hidden = true;
      emptyBox.textContent = m.message;
      emptyBox.hidden = false;
      loaded = true;
      buildLegend();
      requestDraw();
      return;
    case 'sites': store.addSites(m.sites); return;
    case 'awaits': store.addAwaits(m.from, m.entries); return;
    case 'tasks': store.upsertTasks(m.columns); afterData(); return;
    case 'steps': store.addSteps(m.batch); afterData(); return;
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
      loaded = true;
      if (!fitted) { fitAll(); fitted = true; }
      syncScrollbar();
      requestDraw();
      return;
    case 'select':
      if (store.index.has(m.taskId)) select(m.taskId, false);
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

function setFollowButton(): void {
  btnFollow.setAttribute('aria-pressed', String(follow));
  btnFollow.classList.toggle('on', follow);
  btnFollow.title = follow ? t('following') : t('follow');
}

function afterData(): void {
  if (!loaded) return;
  syncScrollbar();
  if (follow && store.live) followNow();
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

const perfLog: string[] = [];
// Programmatic access for the bench and tests (same code paths as the mouse and keyboard).
(window as unknown as { asyncTraceGantt: unknown }).asyncTraceGantt = {
  draw: (): number => draw(),
  pan: (dxPx: number): void => { t0 += dxPx * upp; },
  zoom: (factor: number, px: number): void => { const tm = t0 + px * upp; upp *= factor; clampView(); t0 = tm - px * upp; },
  fit: (): void => fitAll(),
  scroll: (dy: number): void => { scrollTop = Math.max(0, scrollTop + dy); },
  stats: (): GanttStats => collectStats(),
  perf: (): string[] => perfLog,
  view: (): { t0: number; upp: number; labelW: number; width: number; height: number } => ({ t0, upp, labelW, width, height }),
  /** Puts time `us` at `px` from the chart's left edge (keeps the zoom). */
  center: (us: number, px: number): void => { t0 = us - px * upp; },
  taskSpan: (id: number): [number, number] | null => {
    const idx = store.index.get(id);
    return idx === undefined ? null : [store.created[idx], store.laneEnd(idx)];
  },
};

readPalette();
applyStrings();
resize();
vscode.postMessage({ type: 'ready' });
