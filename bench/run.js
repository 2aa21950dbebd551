#!/usr/bin/env node
// `npm run bench -- NAME [args]`: builds, then runs bench/NAME.ts (compiled to dist/bench/NAME.js).
// Benchmarks are not tests: they run ringtail and its peer side by side and print a table.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...args] = process.argv.slice(2);
const root = new URL('..', import.meta.url);
const available = readdirSync(new URL('bench/', root)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <${available.join('|') || 'none yet'}> [args]\n`);
  process.exit(2);
}
// `npm run build`, not tsc alone: it also writes dist/agent.bundle.js, which `ringtail agent` runs.
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit', cwd: root.pathname });
const entry = new URL(`dist/bench/${name}.js`, root);
if (!existsSync(entry)) throw new Error(`${entry.pathname} was not built`);
const mod = await import(entry.href);
await mod.main(args);
