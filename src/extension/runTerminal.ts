// The traced program's own terminal: a Pseudoterminal relaying the child's stdout/stderr and the
// user's keystrokes (a local line discipline, since the child's stdin is a pipe, not a tty).
import * as vscode from 'vscode';
import { LineDiscipline, toTerminalText } from '../core/runPlan';

export interface RunTerminalHooks {
  /** A line (or the partial line at Ctrl-D) the user typed. */
  onInput(text: string): void;
  /** Ctrl-C. */
  onInterrupt(): void;
  /** Ctrl-D on an empty line. */
  onEndOfInput(): void;
  /** The user closed the terminal. */
  onClose(): void;
}

export class RunTerminal implements vscode.Disposable {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number | void>();
  private readonly discipline = new LineDiscipline();
  private opened = false;
  private backlog: string[] = [];
  private ended = false;
  private closedByUser = false;
  /** Everything written, for tests and for the error message's "show output" (bounded). */
  private transcript = '';
  readonly terminal: vscode.Terminal;

  constructor(name: string, private readonly hooks: RunTerminalHooks) {
    const pty: vscode.Pseudoterminal = {
      onDidWrite: this.writeEmitter.event,
      onDidClose: this.closeEmitter.event,
      open: () => {
        this.opened = true;
        for (const s of this.backlog) this.writeEmitter.fire(s);
        this.backlog = [];
      },
      close: () => {
        this.closedByUser = true;
        if (!this.ended) this.hooks.onClose();
      },
      handleInput: (data) => this.handleInput(data),
    };
    this.terminal = vscode.window.createTerminal({
      name,
      pty,
      iconPath: new vscode.ThemeIcon('debug-alt'),
      isTransient: true,
    });
  }

  get text(): string { return this.transcript; }
  get isClosed(): boolean { return this.closedByUser; }
  get isEnded(): boolean { return this.ended; }

  show(): void {
    this.terminal.show(true);
  }

  /** Program output (stdout and stderr interleaved as they arrive). */
  writeOutput(text: string): void {
    this.write(toTerminalText(text));
  }

  /** A line of our own (start banner, exit summary), dimmed to set it apart from program output. */
  writeNote(text: string, kind: 'info' | 'error' = 'info'): void {
    const color = kind === 'error' ? '\x1b[31m' : '\x1b[2m';
    this.write(`${color}${toTerminalText(text)}\x1b[0m\r\n`);
  }

  /** The run is over: keystrokes are no longer sent anywhere; closing the terminal stops nothing. */
  markEnded(): void {
    this.ended = true;
  }

  private write(s: string): void {
    this.transcript += s;
    if (this.transcript.length > 200_000) this.transcript = this.transcript.slice(-100_000);
    if (this.opened) this.writeEmitter.fire(s);
    else this.backlog.push(s);
  }

  private handleInput(data: string): void {
    if (this.ended) return;
    const r = this.discipline.feed(data);
    if (r.echo) this.write(r.echo);
    for (const line of r.lines) this.hooks.onInput(line);
    if (r.interrupt) this.hooks.onInterrupt();
    if (r.endOfInput) this.hooks.onEndOfInput();
  }

  dispose(): void {
    this.ended = true;
    this.terminal.dispose();
    this.writeEmitter.dispose();
    this.closeEmitter.dispose();
  }
}
