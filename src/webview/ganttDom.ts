// The timeline's DOM: toolbar, chart canvas, tooltip, legend and the accessible summary, created once.
import { fitAll, zoomAt, userMoved, setFollow, zoomToTask } from './ganttNavigation';
import { resize } from './ganttInput';
import { t, view, chartW } from './ganttView';
import { applyPathStrings } from './ganttCriticalPath';

// ---------------------------------------------------------------- DOM

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, parent?: HTMLElement): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

export function iconButton(parent: HTMLElement, icon: string, action: () => void): HTMLButtonElement {
  const b = el('button', 'tool', parent);
  b.type = 'button';
  el('span', `codicon codicon-${icon}`, b).setAttribute('aria-hidden', 'true');
  b.addEventListener('click', action);
  return b;
}

export const app = document.getElementById('app') ?? document.body;
export const toolbar = el('div', 'toolbar', app);
toolbar.setAttribute('role', 'toolbar');
export const runTitle = el('span', 'run-title', toolbar);
export const liveBadge = el('span', 'live-badge', toolbar);
liveBadge.hidden = true;
export const searchBox = el('input', 'search', toolbar);
searchBox.type = 'search';
export const searchCount = el('span', 'search-count', toolbar);
searchCount.setAttribute('aria-live', 'polite');
export const btnFit = iconButton(toolbar, 'screen-full', () => { fitAll(); userMoved(); });
export const btnZoomIn = iconButton(toolbar, 'zoom-in', () => zoomAt(0.5, chartW() / 2));
export const btnZoomOut = iconButton(toolbar, 'zoom-out', () => zoomAt(2, chartW() / 2));
export const btnZoomTask = iconButton(toolbar, 'target', () => { if (view.selected !== null) zoomToTask(view.selected); });
export const btnFollow = iconButton(toolbar, 'pin', () => setFollow(!view.follow));
export const btnLegend = iconButton(toolbar, 'symbol-color', () => { legend.hidden = !legend.hidden; btnLegend.setAttribute('aria-pressed', String(!legend.hidden)); resize(); });
export const readout = el('span', 'readout', toolbar);

export const main = el('div', 'chart', app);
export const canvas = el('canvas', 'canvas', main);
canvas.tabIndex = 0;
canvas.setAttribute('role', 'application');
export const vscroll = el('div', 'vscroll', main);
export const vspacer = el('div', 'vspacer', vscroll);
export const tooltip = el('div', 'tooltip', main);
tooltip.setAttribute('role', 'tooltip');
tooltip.id = 'gantt-tooltip';
tooltip.hidden = true;
export const emptyBox = el('div', 'empty', main);
emptyBox.hidden = true;
export const legend = el('div', 'legend', app);
// Offscreen accessible summary: lanes on screen with their state (screen readers, tests).
export const summary = el('div', 'visually-hidden', app);
summary.id = 'gantt-summary';
export const summaryTitle = el('p', undefined, summary);
export const laneList = el('ul', undefined, summary);
laneList.id = 'gantt-lanes';
// The event-loop lag lanes, in words (their own list: the lane list is one item per task lane).
export const lagList = el('ul', undefined, summary);
lagList.id = 'gantt-lag';
export const announcer = el('div', 'visually-hidden', app);
announcer.setAttribute('aria-live', 'polite');
announcer.id = 'gantt-announcer';

export const ctx = canvas.getContext('2d', { alpha: false })!;

export function applyStrings(): void {
  searchBox.placeholder = t('search');
  searchBox.setAttribute('aria-label', t('search'));
  const tip = (b: HTMLButtonElement, key: string): void => { b.title = t(key); b.setAttribute('aria-label', t(key)); };
  tip(btnFit, 'fitAll'); tip(btnZoomIn, 'zoomIn'); tip(btnZoomOut, 'zoomOut'); tip(btnZoomTask, 'zoomToTask');
  tip(btnFollow, 'follow'); tip(btnLegend, 'legend');
  btnLegend.setAttribute('aria-pressed', String(!legend.hidden));
  canvas.setAttribute('aria-label', `${t('title')}. ${t('keyboardHelp')}`);
  canvas.setAttribute('aria-describedby', 'gantt-summary');
  liveBadge.textContent = t('live');
  applyPathStrings();
}

export function setFollowButton(): void {
  btnFollow.setAttribute('aria-pressed', String(view.follow));
  btnFollow.classList.toggle('on', view.follow);
  btnFollow.title = view.follow ? t('following') : t('follow');
}
