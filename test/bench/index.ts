// `npm run bench`: runs every test/bench/*.bench.ts in turn. Each file exports `run(): Promise<void>`
// that prints its own figures (ratios and times measured in this one run).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

async function main(): Promise<void> {
  const only = process.argv[2];
  const files = readdirSync(__dirname).filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only))).sort();
  for (const f of files) {
    console.log(`\n== ${f.replace(/\.bench\.ts$/, '')} ==`);
    const mod = await import(pathToFileURL(join(__dirname, f)).href);
    await (mod.run ?? mod.default?.run)();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
