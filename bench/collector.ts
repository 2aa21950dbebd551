// `npm run bench -- collector [load|writer|search] [--lines N] [--runs N] [--agents N] [--seconds N] [--metrics N] [--appear S] [--inline] [--metrics-inline] [--storage clickhouse] [--cold]`
// (`--storage clickhouse`: search only, bench/lib/search.ts; `--cold`: search only, from an evicted page cache, bench/lib/search-cold.ts)
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadBench } from './lib/load.js';
import { storageArg } from './lib/ch-side.js';
import { searchBench } from './lib/search.js';
import { writerBench } from './lib/writer.js';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  const out = fileURLToPath(new URL('../../bench/out/', import.meta.url));
  mkdirSync(out, { recursive: true });
  const which = args.find((a, i) => !a.startsWith('--') && !/^\d+$/.test(a) && args[i - 1] !== '--storage') ?? 'all';
  process.stdout.write(`collector benchmark, ${new Date().toISOString()}\n\n`);
  if (which === 'load' || which === 'all') {
    const writer = args.includes('--inline') ? 'inline' : 'worker';
    await loadBench({ agents: arg(args, 'agents', 1000), seconds: arg(args, 'seconds', 30), dir: out, writer, metrics: arg(args, 'metrics', 60), appearSeconds: arg(args, 'appear', 10), metricsInline: args.includes('--metrics-inline') });
  }
  if (which === 'writer' || which === 'all') {
    await writerBench(out, arg(args, 'seconds', 10), arg(args, 'batches', 1000), arg(args, 'batch-lines', 20));
  }
  if (which === 'search' || which === 'all') {
    await searchBench(out, arg(args, 'lines', 10_000_000), arg(args, 'runs', 60), storageArg(args), args.includes('--cold'));
  }
}
