// One build script, two bundles: the extension (Node, CommonJS, `vscode` external)
// and the Gantt webview (browser IIFE). `--watch` rebuilds on change, `--production` minifies.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// `npm run package` starts from an empty dist/: nothing of a development build (source maps) is left.
if (process.argv.includes('--clean')) await rm('dist', { recursive: true, force: true });

/** Logs build results the way VS Code's esbuild problem matcher expects. */
const problemMatcherPlugin = {
  name: 'esbuild-problem-matcher',
  setup(build) {
    build.onStart(() => console.log('[watch] build started'));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      console.log('[watch] build finished');
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
  plugins: [problemMatcherPlugin],
};

const extension = await esbuild.context({
  ...common,
  entryPoints: ['src/extension/extension.ts'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  outfile: 'dist/extension.js',
  external: ['vscode'],
});

const webview = await esbuild.context({
  ...common,
  entryPoints: { gantt: 'src/webview/ganttMain.ts' },
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  outdir: 'dist/webview',
});

// The `async-trace` command (package bin): core only, no VS Code.
const cli = await esbuild.context({
  ...common,
  entryPoints: { cli: 'src/cli/asyncTrace.ts' },
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  outdir: 'dist',
  banner: { js: '#!/usr/bin/env node' },
});

// Codicons ship inside the extension: the webview loads no remote content.
await mkdir('dist/codicons', { recursive: true });
for (const f of ['codicon.css', 'codicon.ttf']) {
  await copyFile(`node_modules/@vscode/codicons/dist/${f}`, `dist/codicons/${f}`);
}

if (watch) {
  await Promise.all([extension.watch(), webview.watch(), cli.watch()]);
} else {
  const results = await Promise.allSettled([extension.rebuild(), webview.rebuild(), cli.rebuild()]);
  await extension.dispose();
  await webview.dispose();
  await cli.dispose();
  if (results.some((r) => r.status === 'rejected')) process.exit(1);
}
