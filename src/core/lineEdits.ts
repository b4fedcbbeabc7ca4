// Keeping annotations on their lines while the user edits: where a trace's line is after the
// document's edits (pure, no vscode).

/**
 * One text change, in lines of the document before the change (0-based, like vscode):
 * lines start..end were replaced by text containing `newlines` line breaks. `kept` names the one
 * original line (if any) whose content survives unchanged, and where it lands.
 */
export interface LineEdit { start: number; end: number; newlines: number; kept?: { from: number; to: number } }

/** Where an original line is after an edit; undefined when the edit touched it. */
export function mapLine(line: number, e: LineEdit): number | undefined {
  if (line < e.start) return line;
  if (line > e.end) return line + e.newlines - (e.end - e.start);
  if (e.kept && e.kept.from === line) return e.kept.to;
  return undefined;
}

/**
 * Classifies a change like vscode's TextDocumentContentChangeEvent (range in the old document,
 * inserted text). `startLineLength` is the old length of the start line when known (to tell an
 * Enter at the end of a line, which keeps that line, from one that splits it).
 */
export function lineEditOf(
  range: { start: { line: number; character: number }; end: { line: number; character: number } },
  text: string,
  startLineLength?: number,
): LineEdit {
  const newlines = (text.match(/\n/g) ?? []).length;
  const { start, end } = range;
  const e: LineEdit = { start: start.line, end: end.line, newlines };
  const empty = start.line === end.line && start.character === end.character;
  if (empty) {
    if (newlines === 0) return e; // typing inside the line: the line is edited
    if (start.character === 0 && text.endsWith('\n')) e.kept = { from: start.line, to: start.line + newlines };
    else if (text.startsWith('\n') || text.startsWith('\r\n')) {
      if (startLineLength !== undefined && start.character >= startLineLength) e.kept = { from: start.line, to: start.line };
    }
    return e;
  }
  // Whole lines replaced or deleted: the line the range ends on keeps its content.
  if (start.character === 0 && end.character === 0 && (text === '' || text.endsWith('\n'))) {
    e.kept = { from: end.line, to: start.line + newlines };
  }
  return e;
}

/** Maps a line (1-based, as in traces) through a list of edits; undefined if it was edited. */
export function mapTraceLine(line1: number, edits: readonly LineEdit[]): number | undefined {
  let l: number | undefined = line1 - 1;
  for (const e of edits) {
    l = mapLine(l, e);
    if (l === undefined) return undefined;
  }
  return l + 1;
}
