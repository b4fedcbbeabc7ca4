// Colours of the timeline, read from the --vscode-* theme variables, and the legend that explains them.
import { WAIT_KINDS } from '../core/ganttProtocol';
import { el, legend, ctx } from './ganttDom';
import { requestDraw, textCache } from './ganttDraw';
import { paintPathSwatch } from './ganttCriticalPath';
import { t, view } from './ganttView';

// ---------------------------------------------------------------- colours

export interface Palette {
  bg: string; fg: string; muted: string; grid: string; lane: string; sel: string; selFg: string; hover: string; focus: string;
  running: string; waiting: string; ready: string; path: string; done: string; cancelled: string; failed: string; timeout: string; block: string;
  io: string; sync: string; sw: string; exec: string; other: string; asyncio: string; greenlet: string; trio: string; tooltipBg: string; font: string;
  wait: (string | CanvasPattern)[];
}
export let P: Palette;

export function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v || fallback;
}

export function hatch(color: string, dir: 1 | -1 | 0): CanvasPattern | string {
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

export function readPalette(): void {
  const st = getComputedStyle(document.documentElement);
  const bs = getComputedStyle(document.body);
  const v = (n: string, f: string): string => cssVar(st, n, cssVar(bs, n, f));
  const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
  const waiting = v('--vscode-asyncTrace-waiting', dark ? '#569CD6' : '#0063B1');
  const io = v('--vscode-asyncTrace-timelineIo', v('--vscode-charts-purple', '#B180D7'));
  const sync = v('--vscode-asyncTrace-timelineSync', v('--vscode-charts-orange', '#D18616'));
  const sw = v('--vscode-asyncTrace-timelineSwitch', v('--vscode-charts-green', '#89D185'));
  const other = v('--vscode-charts-lines', dark ? '#888' : '#777');
  const exec = v('--vscode-asyncTrace-timelineExecutor', dark ? '#E38DB1' : '#B0417A');
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
    path: v('--vscode-asyncTrace-criticalPath', v('--vscode-focusBorder', dark ? '#FFCC00' : '#C800A4')),
    ready: v('--vscode-asyncTrace-ready', dark ? '#C5A332' : '#9A7B00'),
    done: v('--vscode-asyncTrace-done', dark ? '#89D185' : '#388A34'),
    cancelled: v('--vscode-asyncTrace-cancelled', dark ? '#CCA700' : '#BF8803'),
    failed: v('--vscode-asyncTrace-failed', dark ? '#F14C4C' : '#E51400'),
    timeout: v('--vscode-asyncTrace-timeout', dark ? '#D18616' : '#B35900'),
    block: v('--vscode-asyncTrace-block', dark ? '#F14C4C' : '#E51400'),
    io, sync, sw, other, exec,
    asyncio: v('--vscode-symbolIcon-functionForeground', dark ? '#B180D7' : '#652D90'),
    greenlet: v('--vscode-symbolIcon-eventForeground', dark ? '#EE9D28' : '#D67E00'),
    trio: v('--vscode-charts-blue', dark ? '#3794FF' : '#1A85FF'),
    tooltipBg: v('--vscode-editorHoverWidget-background', dark ? '#252526' : '#f3f3f3'),
    font: `${v('--vscode-font-size', '12px')} ${v('--vscode-font-family', 'sans-serif')}`,
    wait: [],
  };
  // Index = wait kind code (WAIT_KINDS): other, sleep, task, gather, io, sync, switch, future, yield, hub, executor.
  P.wait = [other, waiting, hatch(waiting, 1), hatch(waiting, 0), io, sync, hatch(sw, 1), waiting, other, sw, hatch(exec, -1)];
  textCache.clear();
  buildLegend();
  requestDraw();
}

// ---------------------------------------------------------------- legend, summary, state

export function buildLegend(): void {
  legend.textContent = '';
  const add = (label: string, paint: (g: CanvasRenderingContext2D) => void): void => {
    const item = el('span', 'legend-item', legend);
    const c = el('canvas', 'swatch', item);
    c.width = 28 * view.dpr; c.height = 12 * view.dpr;
    c.style.width = '28px'; c.style.height = '12px';
    const g = c.getContext('2d');
    if (g) { g.scale(view.dpr, view.dpr); paint(g); }
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
  add(t('criticalPathLegend'), paintPathSwatch);
  add(t('lagLegend'), (g) => { g.fillStyle = P.ready; [3, 6, 2, 8, 4].forEach((h, i) => g.fillRect(2 + i * 5, 11 - h, 3, h)); g.fillStyle = P.block; g.fillRect(22, 1, 3, 10); });
  add(t('execLegend'), rect(P.exec, 10));
  add(t('timeoutArmed'), (g) => { g.fillStyle = P.timeout; g.fillRect(2, 2, 24, 1.5); g.fillRect(2, 1, 1.5, 5); });
  add(t('timeoutFired'), (g) => { g.fillStyle = P.timeout; g.beginPath(); g.moveTo(14, 2); g.lineTo(18, 6); g.lineTo(14, 10); g.lineTo(10, 6); g.fill(); });
  add(t('cancelRequested'), (g) => { g.strokeStyle = P.cancelled; g.lineWidth = 2; g.beginPath(); g.moveTo(11, 3); g.lineTo(17, 9); g.moveTo(17, 3); g.lineTo(11, 9); g.stroke(); });
  add(`${t('ended')}: ${t('done')} / ${t('cancelled')} / ${t('failed')}`, (g) => {
    [P.done, P.cancelled, P.failed].forEach((c, i) => { g.fillStyle = c; g.beginPath(); g.arc(5 + i * 9, 6, 4, 0, Math.PI * 2); g.fill(); });
  });
  add(`${t('asyncio')} / ${t('greenlet')} / ${t('trio')}`, (g) => {
    g.fillStyle = P.asyncio; g.beginPath(); g.arc(5, 6, 4, 0, Math.PI * 2); g.fill();
    g.fillStyle = P.greenlet; g.beginPath(); g.moveTo(15, 1); g.lineTo(20, 6); g.lineTo(15, 11); g.lineTo(10, 6); g.fill();
    g.fillStyle = P.trio; g.fillRect(23, 2.5, 7, 7);
  });
  el('span', 'legend-note', legend).textContent = t('links');
}

export function hatchFor(g: CanvasRenderingContext2D, kind: number): string | CanvasPattern {
  const p = P.wait[kind];
  if (typeof p === 'string') return p;
  // Patterns belong to the main canvas context; rebuild one for the swatch.
  const base = kind === 6 ? P.sw : kind === 10 ? P.exec : P.waiting;
  const c = document.createElement('canvas');
  c.width = c.height = 6;
  const h = c.getContext('2d')!;
  h.strokeStyle = base; h.lineWidth = 1.5; h.beginPath();
  if (kind === 10) { h.moveTo(0, 0); h.lineTo(6, 6); } else if (kind !== 3) { h.moveTo(0, 6); h.lineTo(6, 0); } else { h.moveTo(0, 6); h.lineTo(6, 0); h.moveTo(0, 0); h.lineTo(6, 6); }
  h.stroke();
  return g.createPattern(c, 'repeat') ?? base;
}
