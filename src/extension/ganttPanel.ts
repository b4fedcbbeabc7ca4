import * as vscode from 'vscode';
import type { TraceRuns } from './traceRuns';

// Placeholder: replaced by the feature's implementation.
export function registerGanttPanel(_context: vscode.ExtensionContext, _runs: TraceRuns): void {}
