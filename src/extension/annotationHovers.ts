// Hover on an annotated line: the details per task, with links that reveal the task in the tree
// and in the timeline. Markdown is trusted only for those two commands; every trace string is escaped.
import * as vscode from 'vscode';
import type { TraceRunView } from '../core/modelTypes';
import { describeOn, formatDelay, lineHints, taskName, type LineInfo, type TaskAwaitStats } from '../core/lineAnnotations';
import { formatDuration } from '../core/format';
import { histogramBar, lineWaits, type SlowWait } from '../core/waitDistributions';
import { markdownText } from './untrustedMarkdown';
import { plainText } from '../core/untrusted';

const t = vscode.l10n.t;
const MAX_ROWS = 15;

export const HOVER_COMMANDS = ['asyncTrace.revealTask', 'asyncTrace.showTimeline'];

/** Escapes text for Markdown (task names and error messages come from the traced program). */
export function escapeMarkdown(text: string): string {
  return markdownText(text);
}

function commandLink(label: string, tooltip: string, command: string, args: unknown[]): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify(args))} "${tooltip.replace(/"/g, '')}")`;
}

function taskLinks(run: TraceRunView, task: number): string {
  return `${commandLink('$(list-tree)', t('Reveal in Tasks'), 'asyncTrace.revealTask', [run.key, task])} `
    + commandLink('$(graph-line)', t('Show in Timeline'), 'asyncTrace.showTimeline', [run.key, task]);
}

/** Reveal the task in the tree; open this wait on the timeline (zoomed to it, marked) and its line. */
function waitLinks(run: TraceRunView, w: SlowWait, site: number): string {
  return `${commandLink('$(list-tree)', t('Reveal in Tasks'), 'asyncTrace.revealTask', [run.key, w.task])} `
    + commandLink('$(graph-line)', t('Open This Wait on the Timeline'), 'asyncTrace.showTimeline', [run.key, w.task, { from: w.from, to: w.to, site }]);
}

function name(run: TraceRunView, task: number): string {
  return escapeMarkdown(taskName(run, task));
}

/** `tasks`: the per-task waiting at this line (computed only when hovered). */
export function hoverMarkdown(run: TraceRunView, info: LineInfo, tasks: readonly TaskAwaitStats[], traceFile?: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.isTrusted = { enabledCommands: HOVER_COMMANDS };
  md.supportHtml = false;
  md.appendMarkdown(`**${escapeMarkdown(t('Async Trace'))}** \u2014 ${escapeMarkdown(run.label)}\n\n`);
  for (const h of lineHints(run, info, t)) md.appendMarkdown(`- ${escapeMarkdown(h.text)}\n`);
  md.appendMarkdown('\n');

  const aw = info.await;
  if (aw && tasks.length) {
    md.appendMarkdown(`${escapeMarkdown(aw.outer ? t('Waits inside calls made from this line ({0} of the run\'s waiting):', pct(aw.share)) : t('Waits at this line ({0} of the run\'s waiting):', pct(aw.share)))}\n\n`);
    md.appendMarkdown(`| ${[t('Task'), t('Waits'), t('Total'), t('Longest'), t('Awaited'), ''].map(escapeMarkdown).join(' | ')} |\n|---|---:|---:|---:|---|---|\n`);
    for (const ts of tasks.slice(0, MAX_ROWS)) {
      const waits = ts.unfinished ? `${ts.count} + ${ts.unfinished}\u2026` : String(ts.count);
      md.appendMarkdown(`| ${name(run, ts.task)} | ${waits} | ${formatDuration(ts.total)} | ${formatDuration(ts.max)} | ${escapeMarkdown(describeOn(run, ts.on, t))} | ${taskLinks(run, ts.task)} |\n`);
    }
    if (tasks.length > MAX_ROWS) md.appendMarkdown(`\n${escapeMarkdown(t('\u2026 and {0} more tasks', tasks.length - MAX_ROWS))}\n`);
    md.appendMarkdown('\n');
    const dist = traceFile === undefined ? undefined : lineWaits(run, traceFile, info.line);
    if (dist !== undefined && dist.count > 0) {
      md.appendMarkdown(`${escapeMarkdown(t('Wait times here: {0} waits, p50 {1}, p95 {2}, p99 {3}, max {4}', dist.count,
        formatDuration(dist.p50), formatDuration(dist.p95), formatDuration(dist.p99), formatDuration(dist.max)))}\n\n`);
      const h = dist.histogram;
      if (h.counts.length > 1) {
        md.appendMarkdown(`\`${formatDuration(h.bounds[0])} ${histogramBar(h)} ${formatDuration(h.bounds[h.bounds.length - 1])}\`\n\n`);
      }
      // The outliers: each opens its wait on the timeline (zoomed to it, marked) and this line.
      const slow = dist.slowest[0];
      if (slow !== undefined) md.appendMarkdown(`${escapeMarkdown(t('Slowest: {0} by {1}', formatDuration(slow.to - slow.from), taskName(run, slow.task)))} ${waitLinks(run, slow, dist.site)}\n\n`);
      const others = dist.slowest.slice(1, 3);
      if (others.length) {
        md.appendMarkdown(`${escapeMarkdown(t('Next slowest:'))}\n\n`);
        for (const w of others) md.appendMarkdown(`- ${escapeMarkdown(t('{0} by {1}', formatDuration(w.to - w.from), taskName(run, w.task)))} ${waitLinks(run, w, dist.site)}\n`);
        md.appendMarkdown('\n');
      }
    }
  }

  const tl = info.timeout;
  if (tl) {
    md.appendMarkdown(`${escapeMarkdown(t('Timeouts armed here:'))}\n\n`);
    for (const to of tl.timeouts.slice(0, MAX_ROWS)) {
      const delay = to.delay === null ? t('(no delay)') : formatDelay(to.delay);
      const after = to.endTs !== undefined ? formatDuration(to.endTs - to.armedTs) : '';
      let what: string;
      if (to.state === 'fired') {
        what = to.cancelled.length
          ? t('{0} for {1}: fired after {2}, cancelled {3}', delay, taskName(run, to.task), after, to.cancelled.map((id) => taskName(run, id)).join(', '))
          : t('{0} for {1}: fired after {2}', delay, taskName(run, to.task), after);
      } else if (to.state === 'cleared') {
        what = to.delay
          ? t('{0} for {1}: cleared after {2} ({3} of the delay)', delay, taskName(run, to.task), after, pct((to.endTs! - to.armedTs) / (to.delay * 1e6)))
          : t('{0} for {1}: cleared after {2}', delay, taskName(run, to.task), after);
      } else what = t('{0} for {1}: still armed', delay, taskName(run, to.task));
      md.appendMarkdown(`- ${escapeMarkdown(what)} ${taskLinks(run, to.task)}\n`);
    }
    md.appendMarkdown('\n');
  }

  if (info.block) {
    const b = info.block;
    md.appendMarkdown(`${escapeMarkdown(b.count === 1
      ? t('Blocked the event loop for {0}', formatDuration(b.max))
      : t('Blocked the event loop {0} times: longest {1}, total {2}', b.count, formatDuration(b.max), formatDuration(b.total)))}\n\n`);
    for (const id of info.block.tasks.slice(0, MAX_ROWS)) md.appendMarkdown(`- ${name(run, id)} ${taskLinks(run, id)}\n`);
    md.appendMarkdown('\n');
  }

  if (info.failures?.length) {
    md.appendMarkdown(`${escapeMarkdown(t('Failures raised here:'))}\n\n`);
    for (const id of info.failures.slice(0, MAX_ROWS)) {
      const e = run.tasks.get(id)?.error;
      md.appendMarkdown(`- ${name(run, id)}: \`${escapeCode(`${e?.type ?? '?'}: ${e?.message ?? ''}`)}\` ${taskLinks(run, id)}\n`);
    }
    md.appendMarkdown('\n');
  }

  if (info.cancels?.length) {
    md.appendMarkdown(`${escapeMarkdown(t('Cancellations requested here:'))}\n\n`);
    for (const c of info.cancels.slice(0, MAX_ROWS)) {
      const text = c.by !== null
        ? t('{0} cancelled by {1} ({2})', taskName(run, c.task), taskName(run, c.by), c.cause)
        : t('{0} cancelled ({1})', taskName(run, c.task), c.cause);
      md.appendMarkdown(`- ${escapeMarkdown(text)} ${taskLinks(run, c.task)}\n`);
    }
    md.appendMarkdown('\n');
  }

  if (info.creates?.length) {
    md.appendMarkdown(`${escapeMarkdown(t('Tasks created here:'))}\n\n`);
    for (const id of info.creates.slice(0, MAX_ROWS)) {
      const task = run.tasks.get(id);
      const state = task ? (task.endState ?? task.status) : '';
      md.appendMarkdown(`- ${name(run, id)} (${escapeMarkdown(state)}) ${taskLinks(run, id)}\n`);
    }
    if (info.creates.length > MAX_ROWS) md.appendMarkdown(`- ${escapeMarkdown(t('\u2026 and {0} more tasks', info.creates.length - MAX_ROWS))}\n`);
  }
  return md;
}

function escapeCode(text: string): string {
  // Inside an inline code span only backticks and line breaks matter; plainText still keeps it
  // bounded and free of link syntax in case a renderer ever looks inside.
  return plainText(text, 500).replace(/`/g, '\u02cb');
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Registers the hover provider for Python files on disk; `lookup` finds the annotated line. */
export function registerAnnotationHovers(
  lookup: (document: vscode.TextDocument, line1: number) => { run: TraceRunView; info: LineInfo; tasks: () => TaskAwaitStats[]; traceFile?: string } | undefined,
): vscode.Disposable {
  return vscode.languages.registerHoverProvider({ scheme: 'file', language: 'python' }, {
    provideHover(document, position) {
      const found = lookup(document, position.line + 1);
      if (!found) return undefined;
      return new vscode.Hover(hoverMarkdown(found.run, found.info, found.info.await ? found.tasks() : [], found.traceFile), document.lineAt(position.line).range);
    },
  });
}
