// Trace text in Markdown (hovers, Markdown tooltips): plain text first (core/untrusted.ts), then
// every ASCII punctuation character backslash-escaped, so nothing a trace wrote is Markdown syntax:
// no link or image (`[x](command:...)`), no autolink (`http://...`, `www.`, `a@b.c`: the escaped
// `:`, `.` and `@` keep the renderer's link detection from matching), no HTML, no `$(icon)`.
import { plainText } from '../core/untrusted';

const PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Any value from a trace (or a message with trace text in it) as inert Markdown on one line. */
export function markdownText(value: unknown, max?: number): string {
  return plainText(value, max).replace(PUNCTUATION, '\\$&');
}
