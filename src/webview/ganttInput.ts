// Mouse, wheel, keyboard, resize and theme events of the timeline.
import { formatTime } from '../core/ganttLayout';
import { searchBox, readout, main, canvas, vscroll, tooltip } from './ganttDom';
import { readPalette, buildLegend } from './ganttPalette';
import { requestDraw, textCache } from './ganttDraw';
import { hitTest, showTooltip } from './ganttHitTest';
import { clearPath, hasPath } from './ganttCriticalPath';
import { clearFocusWait } from './ganttFocusWait';
import { clampView, fitAll, zoomAt, panBy, userMoved, zoomToTask, select, moveSelection, runSearch, syncScrollbar, saveState } from './ganttNavigation';
import { vscode, store, ROW_H, AXIS_H, MIN_LABEL_W, t, view, chartW, chartH, tOf } from './ganttView';

export function installInput(): void {
  vscroll.addEventListener('scroll', () => {
    if (Math.abs(vscroll.scrollTop - view.scrollTop) > 1) { view.scrollTop = vscroll.scrollTop; requestDraw(); saveState(); }
  });

  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    const rect = canvas.getBoundingClientRect();
    const x = e.clientX - rect.left;
    const dy = e.deltaMode === 1 ? e.deltaY * ROW_H : e.deltaY;
    const dx = e.deltaMode === 1 ? e.deltaX * ROW_H : e.deltaX;
    if (x < view.labelW || e.altKey) {
      // Over the labels (or with Alt): scroll the lanes.
      view.scrollTop += dy;
      syncScrollbar();
      requestDraw();
      saveState();
    } else if (e.shiftKey || Math.abs(dx) > Math.abs(dy)) {
      panBy(e.shiftKey ? dy || dx : dx);
    } else {
      // Wheel and pinch (ctrl+wheel) zoom around the cursor.
      const f = Math.exp(dy * (e.ctrlKey ? 0.01 : 0.002));
      zoomAt(f, x - view.labelW);
    }
  }, { passive: false });

  canvas.addEventListener('mousedown', (e) => {
    if (e.button !== 0) return;
    canvas.focus();
    const rect = canvas.getBoundingClientRect();
    const x = e.clientX - rect.left, y = e.clientY - rect.top;
    const onAxis = y < AXIS_H && x > view.labelW;
    view.drag = { x, y, t0: view.t0, scrollTop: view.scrollTop, mode: onAxis || e.shiftKey ? 'range' : 'pending', moved: false, startX: x };
    if (view.drag.mode === 'range') view.rangeSel = { a: x, b: x };
  });

  window.addEventListener('mousemove', (e) => {
    const rect = canvas.getBoundingClientRect();
    const x = e.clientX - rect.left, y = e.clientY - rect.top;
    if (view.drag) {
      const dx = x - view.drag.x, dy = y - view.drag.y;
      if (!view.drag.moved && Math.abs(dx) + Math.abs(dy) > 3) view.drag.moved = true;
      if (view.drag.mode === 'range') { view.rangeSel = { a: Math.max(view.labelW, view.drag.startX), b: Math.max(view.labelW, Math.min(view.width, x)) }; requestDraw(); return; }
      if (view.drag.moved) {
        view.drag.mode = 'pan';
        view.t0 = view.drag.t0 - dx * view.upp;
        view.scrollTop = Math.max(0, view.drag.scrollTop - dy);
        syncScrollbar();
        tooltip.hidden = true;
        userMoved();
        requestDraw();
      }
      return;
    }
    if (x < 0 || y < 0 || x > view.width || y > view.height) return;
    view.mouse = { x, y };
    readout.textContent = x > view.labelW ? t('cursor', formatTime(tOf(x), view.upp)) : '';
    const h = hitTest(x, y);
    const changed = (h?.task ?? null) !== (view.hover?.task ?? null) || h?.kind !== view.hover?.kind || h?.start !== view.hover?.start;
    view.hover = h;
    if (changed) showTooltip(h, x, y);
    else if (h) showTooltip(h, x, y);
    canvas.style.cursor = h && h.site >= 0 ? 'pointer' : 'default';
    requestDraw();
  });

  canvas.addEventListener('mouseleave', () => {
    if (view.drag) return;
    view.mouse = null;
    view.hover = null;
    tooltip.hidden = true;
    readout.textContent = '';
    requestDraw();
  });

  window.addEventListener('mouseup', (e) => {
    if (!view.drag) return;
    const d = view.drag;
    view.drag = null;
    if (d.mode === 'range' && view.rangeSel) {
      const a = Math.min(view.rangeSel.a, view.rangeSel.b), b = Math.max(view.rangeSel.a, view.rangeSel.b);
      view.rangeSel = null;
      if (b - a > 4) {
        const ta = tOf(a), tb = tOf(b);
        view.upp = (tb - ta) / chartW();
        clampView();
        view.t0 = ta;
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
    if (h.task < 0) {
      // An executor item no task awaits (or an executor lane's name): open its call site, if any.
      if (h.site >= 0) vscode.postMessage({ type: 'open', taskId: -1, siteId: h.site });
      return;
    }
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
      case 'Escape': if (clearFocusWait()) break; if (!hasPath()) return; clearPath(true); break;
      case 'f': case 'F': case '0': fitAll(); userMoved(); break;
      case 'z': case 'Z': if (view.selected !== null) zoomToTask(view.selected); break;
      case ' ':
        if (view.selected !== null) { store.toggle(view.selected); syncScrollbar(); saveState(); requestDraw(); }
        break;
      case 'Enter':
        if (view.selected !== null) {
          const idx = store.index.get(view.selected);
          if (idx !== undefined && store.site[idx] >= 0) vscode.postMessage({ type: 'open', taskId: view.selected, siteId: store.site[idx] });
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

  new ResizeObserver(resize).observe(main);
  window.addEventListener('resize', resize);
  watchPixelRatio();

  // Theme changes: VS Code swaps body classes and the --vscode-* variables on <html>.
  const themeObserver = new MutationObserver(() => readPalette());
  themeObserver.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
}

export function resize(): void {
  const r = main.getBoundingClientRect();
  view.dpr = window.devicePixelRatio || 1;
  const oldChartW = view.width > 0 ? chartW() : 0;
  view.width = Math.max(1, Math.floor(r.width));
  view.height = Math.max(1, Math.floor(r.height));
  canvas.width = Math.floor(view.width * view.dpr);
  canvas.height = Math.floor(view.height * view.dpr);
  canvas.style.width = `${view.width}px`;
  canvas.style.height = `${view.height}px`;
  view.labelW = Math.max(MIN_LABEL_W, Math.min(320, Math.floor(view.width * 0.3)));
  // Keep the visible time range when the panel is resized (split, sidebar toggled).
  if (view.fitted && oldChartW > 1 && chartW() > 1 && oldChartW !== chartW()) view.upp = (view.upp * oldChartW) / chartW();
  textCache.clear();
  syncScrollbar();
  if (!view.fitted && view.hasRun && view.loaded) { fitAll(); view.fitted = true; }
  requestDraw();
}

// A window moved to a screen with another pixel density: re-rasterize at the new ratio.
export function watchPixelRatio(): void {
  matchMedia(`(resolution: ${window.devicePixelRatio}dppx)`).addEventListener('change', () => { resize(); buildLegend(); watchPixelRatio(); }, { once: true });
}
