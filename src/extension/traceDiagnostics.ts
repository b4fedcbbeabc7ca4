// The Problems panel side of the source annotations: one DiagnosticCollection, source "Async Trace".
import * as vscode from 'vscode';
import type { Problem } from '../core/lineProblems';

export const DIAGNOSTIC_SOURCE = 'Async Trace';

const CODES: Record<Problem['kind'], string> = {
  timeoutFired: 'timeout-fired',
  block: 'blocked-loop',
  unretrieved: 'exception-never-retrieved',
  pending: 'pending-at-close',
};

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
};

export interface ResolvedProblem {
  problem: Problem;
  uri: vscode.Uri;
  /** 1-based line in the document as it is now. */
  line: number;
  related: Array<{ uri: vscode.Uri; line: number; message: string }>;
}

export class TraceDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('asyncTrace');

  /** Replaces every diagnostic; `lineRange` gives the text range of a (1-based) line of a file. */
  set(problems: readonly ResolvedProblem[], lineRange: (uri: vscode.Uri, line: number) => vscode.Range): void {
    const byFile = new Map<string, { uri: vscode.Uri; list: vscode.Diagnostic[] }>();
    for (const p of problems) {
      const d = new vscode.Diagnostic(lineRange(p.uri, p.line), p.problem.message, SEVERITY[p.problem.severity]);
      d.source = DIAGNOSTIC_SOURCE;
      d.code = CODES[p.problem.kind];
      if (p.related.length) {
        d.relatedInformation = p.related.map((r) => new vscode.DiagnosticRelatedInformation(
          new vscode.Location(r.uri, lineRange(r.uri, r.line)), r.message));
      }
      const key = p.uri.toString();
      let entry = byFile.get(key);
      if (!entry) byFile.set(key, (entry = { uri: p.uri, list: [] }));
      entry.list.push(d);
    }
    this.collection.clear();
    for (const { uri, list } of byFile.values()) this.collection.set(uri, list);
  }

  clear(): void { this.collection.clear(); }

  /** For the e2e test state. */
  snapshot(): Array<{ file: string; line: number; severity: string; message: string; code: string }> {
    const out: Array<{ file: string; line: number; severity: string; message: string; code: string }> = [];
    this.collection.forEach((uri, list) => {
      for (const d of list) {
        out.push({ file: uri.fsPath, line: d.range.start.line + 1, severity: vscode.DiagnosticSeverity[d.severity], message: d.message, code: String(d.code) });
      }
    });
    return out;
  }

  dispose(): void { this.collection.dispose(); }
}
