// `npx vscode-test` (npm run test:vscode): the integration suite in a desktop VS Code downloaded by
// @vscode/test-electron, with this folder as the extension under development. Where VS Code cannot
// be downloaded, `npm test` runs the same compiled suite inside code-server's extension host
// (test/e2e/vscodeSuite.e2e.mjs).
import { defineConfig } from '@vscode/test-cli';

export default defineConfig({
  label: 'integration',
  files: 'out/test/suite/**/*.test.js',
  workspaceFolder: './examples',
  // A throwaway profile with no other extensions; trust is off as after a user clicks "Trust".
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
  mocha: { ui: 'tdd', timeout: 180000 },
});
