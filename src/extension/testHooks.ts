import * as vscode from 'vscode';
import type { TraceRuns } from './traceRuns';

const contributors = new Map<string, () => unknown>();

/** Features add a section to the state end-to-end tests read (no cost unless tests are running). */
export function contributeTestState(name: string, fn: () => unknown): void {
  contributors.set(name, fn);
}

// Placeholder: replaced by the test-hook implementation.
export function registerTestHooks(_context: vscode.ExtensionContext, _runs: TraceRuns): void {
  void contributors;
}
