// Reading the active editor the way a user sees it: a line's gutter icons and inline hints, the
// hover of a line (shared by the e2e tests of annotations, comparisons and insights).

/** What the active editor shows on a (1-based) line: gutter decoration classes and inline hint texts. */
export async function lineDom(page, line) {
  return page.evaluate((n) => {
    const editor = document.querySelector('.part.editor .editor-group-container.active .monaco-editor')
      ?? document.querySelector('.part.editor .monaco-editor');
    if (!editor) return undefined;
    const number = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')].find((e) => e.textContent.trim() === String(n));
    if (!number) return undefined;
    const top = number.parentElement.style.top;
    const gutter = [...editor.querySelectorAll('.glyph-margin-widgets .cgmr')]
      .filter((e) => e.style.top === top)
      .map((e) => e.className);
    const viewLine = [...editor.querySelectorAll('.view-lines .view-line')].find((e) => e.style.top === top);
    const hints = [];
    for (const span of viewLine?.querySelectorAll('span') ?? []) {
      const c = getComputedStyle(span, '::after').content;
      if (c && c !== 'none' && c !== 'normal') hints.push(JSON.parse(c.replace(/^'|'$/g, '"')));
    }
    return { gutter, hints, text: viewLine?.textContent.replace(/\u00a0/g, ' ') ?? '' };
  }, line);
}

/**
 * Hovers the code of a (1-based) line of the active editor, on the span holding `word`, and
 * returns the text of the Async Trace hover that shows.
 */
export async function hoverLine(page, line, word, timeoutMs = 10000) {
  const box = await page.evaluate(({ n, w }) => {
    const editor = document.querySelector('.part.editor .editor-group-container.active .monaco-editor');
    const number = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')].find((e) => e.textContent.trim() === String(n));
    const top = number.parentElement.style.top;
    const viewLine = [...editor.querySelectorAll('.view-lines .view-line')].find((e) => e.style.top === top);
    const span = [...viewLine.querySelectorAll('span[class^="mtk"]')].find((s) => s.textContent.includes(w));
    const r = span.getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  }, { n: line, w: word });
  await page.mouse.move(box.x - 30, box.y - 30);
  await page.mouse.move(box.x, box.y, { steps: 3 });
  const hover = page.locator('.monaco-hover:not(.hidden) .monaco-hover-content', { hasText: 'Async Trace' }).first();
  await hover.waitFor({ state: 'visible', timeout: timeoutMs });
  return hover.innerText();
}
