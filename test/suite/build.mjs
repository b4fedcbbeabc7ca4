// Compiles the integration suite to out/test/suite/: index.js (the runner) and one *.test.js per
// suite, CommonJS for the extension host; `vscode` and `mocha` come from the host and node_modules.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = path.join(ROOT, 'test', 'suite');
const outdir = path.join(ROOT, 'out', 'test', 'suite');
rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  entryPoints: readdirSync(dir).filter((f) => f === 'index.ts' || f.endsWith('.test.ts')).map((f) => path.join(dir, f)),
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});
