// The words of a run comparison (core/runCompare.ts): the CLI's report, the compare tree's labels
// and the source hints share them, localized through the caller's `t`.
import { formatDuration } from './format';
import type { Localize } from './taskTreeModel';
import { percentText, type RunComparison, type SiteDelta, type SiteRef, type TaskGroupDelta, type TimeoutDelta } from './runCompare';
import { plainText } from './untrusted';
import { baseName } from './taskTreeModel';

export function siteText(s: SiteRef | null): string {
  return s ? plainText(`${baseName(s.file)}:${s.line} ${s.func}`) : '?';
}

/** "1.20 s → 0.41 s (−66 %)". */
export function beforeAfter(before: number | undefined, after: number | undefined): string {
  const b = before === undefined ? '\u2013' : formatDuration(before);
  const a = after === undefined ? '\u2013' : formatDuration(after);
  const pct = before !== undefined && after !== undefined && before > 0 ? percentText(after / before) : '';
  return pct ? `${b} \u2192 ${a} (${pct})` : `${b} \u2192 ${a}`;
}

export function wallText(c: RunComparison, t: Localize): string {
  return t('wall time {0}', beforeAfter(c.before.wall, c.after.wall));
}

/** The inline hint on an await line: "await x3 total 1.20 s → 0.41 s, −66 %". */
export function siteHint(d: SiteDelta, t: Localize): string {
  if (!d.after) return t('await gone (was x{0}, total {1})', d.before?.count ?? 0, formatDuration(d.before?.total ?? 0));
  if (!d.before) return t('new await x{0} total {1}', d.after.count, formatDuration(d.after.total));
  const count = d.before.count === d.after.count ? `${d.after.count}` : `${d.before.count}\u2192${d.after.count}`;
  const pct = percentText(d.ratio);
  return pct
    ? t('await x{0} total {1} \u2192 {2}, {3}', count, formatDuration(d.before.total), formatDuration(d.after.total), pct)
    : t('await x{0} total {1} \u2192 {2}', count, formatDuration(d.before.total), formatDuration(d.after.total));
}

/** One line per site: the hint plus p50/p95. */
export function siteDetail(d: SiteDelta, t: Localize): string {
  const p = (k: 'p50' | 'p95') => beforeAfter(d.before?.[k], d.after?.[k]);
  return t('p50 {0}, p95 {1}', p('p50'), p('p95'));
}

export function groupLabel(g: TaskGroupDelta): string {
  return plainText(g.path.join(' \u203a '));
}

export function groupText(g: TaskGroupDelta, t: Localize): string {
  const x = g.before;
  const y = g.after;
  if (!x && y) return t('new: {0} task(s), lifetime {1}', y.count, formatDuration(y.lifetime));
  if (x && !y) return t('gone: {0} task(s), lifetime was {1}', x.count, formatDuration(x.lifetime));
  const parts: string[] = [];
  if (x && y) {
    parts.push(x.count === y.count ? t('x{0}', y.count) : t('x{0} \u2192 x{1}', x.count, y.count));
    parts.push(t('lifetime {0}', beforeAfter(x.lifetime, y.lifetime)));
    if (x.failed !== y.failed) parts.push(t('failed {0} \u2192 {1}', x.failed, y.failed));
    if (x.cancelled !== y.cancelled) parts.push(t('cancelled {0} \u2192 {1}', x.cancelled, y.cancelled));
  }
  return parts.join(', ');
}

export function timeoutText(d: TimeoutDelta, t: Localize): string {
  const counts = t('fired {0}/{1} \u2192 {2}/{3}', d.before.fired, d.before.armed, d.after.fired, d.after.armed);
  switch (d.change) {
    case 'nowFires': return t('now fires: {0}', counts);
    case 'noLongerFires': return t('no longer fires: {0}', counts);
    case 'firesMore': return t('fires more often: {0}', counts);
    case 'firesLess': return t('fires less often: {0}', counts);
    default: return counts;
  }
}

function errorsText(g: TaskGroupDelta): string {
  const e = g.after?.errors ?? {};
  return plainText(Object.keys(e).map((k) => `${k} x${e[k]}`).join(', '));
}

/** The whole comparison as plain text lines (the CLI's report). */
export function comparisonLines(c: RunComparison, t: Localize, maxRows = 20): string[] {
  const out: string[] = [];
  out.push(t('Comparing {0} (before) with {1} (after)', plainText(c.before.label), plainText(c.after.label)));
  out.push(wallText(c, t));
  out.push(t('tasks {0} \u2192 {1}, failed {2} \u2192 {3}, cancelled {4} \u2192 {5}',
    c.before.tasks, c.after.tasks, c.before.failed, c.after.failed, c.before.cancelled, c.after.cancelled));
  const changedSites = c.sites.filter((s) => s.change !== 0 || !s.before || !s.after);
  out.push('');
  out.push(t('Await sites ({0}), biggest change first:', c.sites.length));
  for (const s of changedSites.slice(0, maxRows)) {
    out.push(`  ${siteText(s.site)}${s.lineBefore !== undefined ? ` (${t('was line {0}', s.lineBefore)})` : ''}: ${siteHint(s, t)}; ${siteDetail(s, t)}`);
  }
  if (changedSites.length > maxRows) out.push(`  ${t('… and {0} more', changedSites.length - maxRows)}`);
  out.push('');
  out.push(t('Tasks: {0} groups new, gone or changed, {1} unchanged', c.tasks.length, c.unchangedGroups));
  for (const g of c.tasks.slice(0, maxRows)) out.push(`  ${groupLabel(g)} [${siteText(g.site)}]: ${groupText(g, t)}`);
  if (c.tasks.length > maxRows) out.push(`  ${t('… and {0} more', c.tasks.length - maxRows)}`);
  const tmo = c.timeouts.filter((d) => d.change !== 'same');
  if (tmo.length) {
    out.push('');
    out.push(t('Timeouts:'));
    for (const d of tmo) out.push(`  ${siteText(d.site)}: ${timeoutText(d, t)}`);
  }
  if (c.newFailures.length || c.newCancellations.length) {
    out.push('');
    for (const g of c.newFailures) out.push(`  ${t('new failures in {0}: {1}', groupLabel(g), errorsText(g))}`);
    for (const g of c.newCancellations) out.push(`  ${t('new cancellations in {0}: {1} \u2192 {2}', groupLabel(g), g.before?.cancelled ?? 0, g.after?.cancelled ?? 0)}`);
  }
  return out;
}
