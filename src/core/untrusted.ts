// Trace text is untrusted (docs/trace-format.md, "What a reader must assume"): every string a
// trace wrote (task names, argv, paths, error messages, loop classes...) goes through plainText
// before it is shown as plain text: in a notification, a tree label or description, a quick pick,
// a status bar tooltip or a Problems entry. Markdown (hovers, Markdown tooltips) adds its own
// escaping on top (src/extension/untrustedMarkdown.ts).

/** Longest text shown for one trace value; longer text is cut with an ellipsis. */
export const PLAIN_TEXT_MAX = 2000;

const ZWSP = '\u200b';

// C0/C1 controls (newlines included) become one space; bidi overrides and isolates (which make
// text read in another order than it is stored) and other invisible format characters are dropped.
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]+/g;
const INVISIBLE = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
// `[label](target)`: VS Code turns it into a link (command:, https:, file: ...) in notifications.
// `$(name)`: a codicon in quick picks and status bar text. A zero-width space between the two
// characters keeps the text readable and breaks the syntax.
const LINK_OR_ICON = /([\]$])\(/g;

/**
 * Any value from a trace as neutral, one-line plain text: non-strings (a number where a string was
 * expected) as their text, objects and arrays as nothing; controls collapsed; at most `max`
 * characters; never a link, a command link or an icon wherever VS Code shows plain text.
 */
export function plainText(value: unknown, max = PLAIN_TEXT_MAX): string {
  let s: string;
  if (typeof value === 'string') s = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') s = String(value);
  else return '';
  if (s.length > max) {
    let cut = max - 1;
    // Never split a surrogate pair.
    if (cut > 0 && s.charCodeAt(cut - 1) >= 0xd800 && s.charCodeAt(cut - 1) <= 0xdbff) cut--;
    s = `${s.slice(0, cut)}\u2026`;
  }
  return s.replace(CONTROLS, ' ').replace(INVISIBLE, '').replace(LINK_OR_ICON, `$1${ZWSP}(`);
}

/** True when plain text shown by VS Code could render as a link or an icon (tests and the fuzz test use it). */
export function hasLinkSyntax(text: string): boolean {
  return /\]\(|\$\(|[\u0000-\u001f\u202a-\u202e\u2066-\u2069]/.test(text);
}
