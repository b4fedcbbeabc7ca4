// Status bar item: while a traced program runs, its live figures (tasks alive, events, elapsed),
// clicking stops it; afterwards the result for a few seconds (clicking opens the tasks view).
import * as vscode from 'vscode';
import { plainText } from '../core/untrusted';
import type { TraceRuns } from './traceRuns';
import { activeSessions, onDidChangeSessions, type RunSession } from './runner';
import { formatCount, formatElapsed } from '../core/runPlan';
import { contributeTestState } from './testHooks';

/** The item refreshes this often while a run is live (about 4x per second). */
const REFRESH_MS = 250;
/** How long the result of a finished run stays visible. */
const RESULT_MS = 10_000;

export function registerStatusBar(context: vscode.ExtensionContext, runs: TraceRuns): void {
  const item = vscode.window.createStatusBarItem('asyncTrace.run', vscode.StatusBarAlignment.Left, 50);
  item.name = vscode.l10n.t('Async Trace');
  context.subscriptions.push(item);

  let timer: NodeJS.Timeout | undefined;
  let hideTimer: NodeJS.Timeout | undefined;
  const known = new Set<RunSession>();
  const locale = vscode.env.language;

  /** The live session to show: the selected run's, else the newest. */
  const current = (): RunSession | undefined => {
    const all = activeSessions();
    return all.find((s) => s.run === runs.selected) ?? all[all.length - 1];
  };

  let shownFor: RunSession | undefined;
  const render = () => {
    const s = current();
    if (!s) return;
    const c = s.run.counts;
    const others = activeSessions().length - 1;
    const text = vscode.l10n.t(
      '$(sync~spin) Async Trace: {0} tasks alive · {1} events · {2}',
      formatCount(c.alive, locale), formatCount(c.events, locale), formatElapsed(Date.now() - s.startedAt),
    ) + (others > 0 ? ` (+${others})` : '');
    if (item.text !== text) item.text = text;
    // Command and tooltip change only with the session: re-setting them 4x/s would rebuild the
    // item's click and hover handlers under the user's mouse.
    if (shownFor !== s) {
      shownFor = s;
      item.tooltip = vscode.l10n.t('Tracing {0} (pid {1}). Click to stop the run.', plainText(s.run.label), s.pid ?? '?');
      item.command = { title: vscode.l10n.t('Stop Traced Run'), command: 'asyncTrace.stop', arguments: [s.run.key] };
      item.backgroundColor = undefined;
    }
    item.show();
  };

  const showResult = (s: RunSession) => {
    const c = s.run.counts;
    const code = s.run.exit?.code ?? s.exitCode;
    const ok = code === 0;
    const status = s.isStopping
      ? vscode.l10n.t('stopped')
      : code === null ? vscode.l10n.t('ended by {0}', s.exitSignal ?? '?') : vscode.l10n.t('exit code {0}', code);
    item.text = vscode.l10n.t(
      '{0} Async Trace: {1} — {2} tasks · {3} events · {4}',
      ok ? '$(pass)' : s.isStopping ? '$(debug-stop)' : '$(error)', status,
      formatCount(c.tasks, locale), formatCount(c.events, locale), formatElapsed(Date.now() - s.startedAt),
    );
    shownFor = undefined;
    item.tooltip = vscode.l10n.t('{0} finished. Click to show its tasks.', plainText(s.run.label));
    item.command = { title: vscode.l10n.t('Show Tasks'), command: 'workbench.view.extension.asyncTrace' };
    item.show();
    if (hideTimer) clearTimeout(hideTimer);
    hideTimer = setTimeout(() => { if (!current()) item.hide(); }, RESULT_MS);
  };

  const update = () => {
    const live = activeSessions();
    for (const s of live) {
      if (!known.has(s)) {
        known.add(s);
        s.onDidFinish(() => {
          known.delete(s);
          if (!current()) showResult(s);
        });
      }
    }
    if (live.length > 0) {
      if (hideTimer) { clearTimeout(hideTimer); hideTimer = undefined; }
      render();
      timer ??= setInterval(render, REFRESH_MS);
    } else if (timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };

  context.subscriptions.push(
    onDidChangeSessions(update),
    runs.onDidChangeRuns(() => { if (activeSessions().length) render(); }),
    { dispose: () => { if (timer) clearInterval(timer); if (hideTimer) clearTimeout(hideTimer); } },
  );

  contributeTestState('statusBar', () => ({ visible: item.text !== '' && (activeSessions().length > 0 || hideTimer !== undefined), text: item.text }));
}
