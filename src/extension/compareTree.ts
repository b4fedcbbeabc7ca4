// The Comparison view: the result of "Compare Runs..." as a tree, biggest changes first: the wall
// time, then await sites, task groups (new, gone, changed), timeouts whose firing changed, and new
// failures and cancellations. A site or task group opens its line in the later run's source.
import * as vscode from 'vscode';
import { beforeAfter, groupLabel, groupText, siteDetail, siteHint, siteText, timeoutText } from '../core/compareText';
import type { SiteRef } from '../core/runCompare';
import { programLabel } from '../core/taskTreeModel';
import { resolveTraceFile } from './sourceAnnotations';
import type { Comparison, ComparisonState } from './runComparison';

const t = (m: string, ...a: Array<string | number>) => vscode.l10n.t(m, ...a);

interface Node { item: vscode.TreeItem; children?: () => Node[] }

function leaf(label: string, description: string, icon: string, site?: SiteRef | null, c?: Comparison, tooltip?: string): Node {
  const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None);
  item.description = description;
  item.tooltip = tooltip ?? `${label}\n${description}`;
  item.iconPath = new vscode.ThemeIcon(icon);
  if (site && c) {
    const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    const local = resolveTraceFile(site.file, c.after.info?.cwd, folders);
    if (local) {
      const line = Math.max(0, site.line - 1);
      item.command = {
        command: 'vscode.open', title: t('Open Source'),
        arguments: [vscode.Uri.file(local), { selection: new vscode.Range(line, 0, line, 0), preview: true }],
      };
    }
  }
  return { item };
}

function section(label: string, description: string, children: () => Node[], expanded = true): Node {
  const item = new vscode.TreeItem(label, expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
  item.description = description;
  return { item, children };
}

const MAX_ROWS = 200;

export function comparisonNodes(c: Comparison): Node[] {
  const r = c.result;
  const nodes: Node[] = [];
  const wall = leaf(t('Wall time'), beforeAfter(r.before.wall, r.after.wall),
    r.slower > 0.05 ? 'arrow-up' : r.slower < -0.05 ? 'arrow-down' : 'dash', undefined, undefined,
    t('{0} (before) \u2192 {1} (after)', programLabel(c.before), programLabel(c.after)));
  nodes.push(wall);
  const pa = c.paths.before, pb = c.paths.after;
  if (pa && pb) {
    const len = (p: typeof pa) => p.to - p.from;
    const tip = [
      t('Critical path: what the end of each run waited on'),
      t('running {0}', beforeAfter(pa.running, pb.running)),
      t('ready, not running {0}', beforeAfter(pa.ready, pb.ready)),
      t('waiting {0}', beforeAfter(pa.waiting, pb.waiting)),
    ].join('\n');
    const change = len(pb) - len(pa);
    nodes.push(leaf(t('Critical path'), beforeAfter(len(pa), len(pb)),
      change > 0.05 * len(pa) ? 'arrow-up' : change < -0.05 * len(pa) ? 'arrow-down' : 'dash', undefined, undefined, tip));
  }
  const timelines = leaf(t('Both timelines'), t('one above the other on one clock'), 'graph-line');
  timelines.item.command = { command: 'asyncTrace.showComparisonTimeline', title: t('Show Both Timelines') };
  nodes.push(timelines);
  const sites = r.sites.filter((s) => s.change !== 0 || !s.before || !s.after);
  nodes.push(section(t('Await sites'), t('{0} changed of {1}', sites.length, r.sites.length), () => sites.slice(0, MAX_ROWS).map((s) =>
    leaf(siteText(s.site), siteHint(s, t), !s.before ? 'add' : !s.after ? 'remove' : (s.ratio ?? 1) < 1 ? 'arrow-down' : 'arrow-up',
      s.after ? s.site : null, c, `${siteText(s.site)}\n${siteHint(s, t)}\n${siteDetail(s, t)}`))));
  nodes.push(section(t('Tasks'), t('{0} new, {1} gone, {2} changed, {3} unchanged',
    r.tasks.filter((g) => g.change === 'new').length, r.tasks.filter((g) => g.change === 'gone').length,
    r.tasks.filter((g) => g.change === 'changed').length, r.unchangedGroups), () => r.tasks.slice(0, MAX_ROWS).map((g) =>
    leaf(groupLabel(g), groupText(g, t), g.change === 'new' ? 'add' : g.change === 'gone' ? 'remove' : 'diff', g.after ? g.site : null, c))));
  const tmo = r.timeouts.filter((d) => d.change !== 'same');
  if (tmo.length) {
    nodes.push(section(t('Timeouts'), t('{0} changed', tmo.length), () => tmo.map((d) =>
      leaf(siteText(d.site), timeoutText(d, t), d.change === 'nowFires' || d.change === 'firesMore' ? 'warning' : 'check', d.site, c))));
  }
  if (r.newFailures.length || r.newCancellations.length) {
    nodes.push(section(t('New failures and cancellations'), '', () => [
      ...r.newFailures.map((g) => leaf(groupLabel(g), t('failed {0} \u2192 {1}', g.before?.failed ?? 0, g.after?.failed ?? 0), 'error', g.site, c)),
      ...r.newCancellations.map((g) => leaf(groupLabel(g), t('cancelled {0} \u2192 {1}', g.before?.cancelled ?? 0, g.after?.cancelled ?? 0), 'circle-slash', g.site, c)),
    ]));
  }
  return nodes;
}

class CompareTreeProvider implements vscode.TreeDataProvider<Node> {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  constructor(private readonly state: ComparisonState) {
    state.onDidChange(() => this.emitter.fire(undefined));
  }
  getTreeItem(n: Node): vscode.TreeItem { return n.item; }
  getChildren(n?: Node): Node[] {
    if (n) return n.children?.() ?? [];
    const c = this.state.current;
    return c ? comparisonNodes(c) : [];
  }
  dispose(): void { this.emitter.dispose(); }
}

export function registerCompareTree(context: vscode.ExtensionContext, state: ComparisonState): void {
  const provider = new CompareTreeProvider(state);
  const view = vscode.window.createTreeView('asyncTrace.comparison', { treeDataProvider: provider, showCollapseAll: true });
  context.subscriptions.push(provider, view, state.onDidChange(() => {
    const c = state.current;
    view.description = c ? t('{0} \u2192 {1}', programLabel(c.before), programLabel(c.after)) : undefined;
  }));
}
