import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

// Every user-facing string ships with its Simplified Chinese translation: the messages passed to
// vscode.l10n.t / the core's Localize `t`, and the manifest's %keys%.
const ROOT = path.join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The string literals (with JS escapes decoded) passed first to l10n.t(...) or t(...). */
function messages(text: string): string[] {
  const out: string[] = [];
  const re = /\b(?:l10n\.t|t)\(\s*'((?:\\.|[^'\\])*)'/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(JSON.parse(`"${m[1].replace(/\\'/g, "'").replace(/"/g, '\\"')}"`));
  return out;
}

test('every localized message of the extension and core has a zh-cn translation', () => {
  const bundle = JSON.parse(readFileSync(path.join(ROOT, 'l10n', 'bundle.l10n.zh-cn.json'), 'utf8')) as Record<string, string>;
  const missing: string[] = [];
  let seen = 0;
  for (const file of ['extension', 'core', 'cli'].flatMap((d) => sources(path.join(ROOT, 'src', d)))) {
    for (const msg of messages(readFileSync(file, 'utf8'))) {
      seen++;
      if (!(msg in bundle)) missing.push(`${path.relative(ROOT, file)}: ${msg}`);
    }
  }
  assert.ok(seen > 100, `only ${seen} messages found: the scan is broken`);
  assert.deepEqual(missing, []);
});

test('every %key% of the manifest has an English and a zh-cn text', () => {
  const manifest = readFileSync(path.join(ROOT, 'package.json'), 'utf8');
  const en = JSON.parse(readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
  const zh = JSON.parse(readFileSync(path.join(ROOT, 'package.nls.zh-cn.json'), 'utf8')) as Record<string, string>;
  const keys = [...manifest.matchAll(/"%([\w.-]+)%"/g)].map((m) => m[1]);
  assert.ok(keys.length > 10);
  assert.deepEqual(keys.filter((k) => !(k in en)), []);
  assert.deepEqual(keys.filter((k) => !(k in zh)), []);
  assert.deepEqual(Object.keys(en).filter((k) => !(k in zh)), []);
});
