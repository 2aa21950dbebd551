#!/usr/bin/env node
// `npm run build:agent` (run by `npm run build`, after tsc): dist/ringtail-agent, the agent as one
// executable file for instances that have no Node, npm or compiler (README, "One-file agent").
//
// Node's single-executable-application support (node 20: `--experimental-sea-config`): the agent
// bundled to one CommonJS file (a SEA runs CommonJS only, and its require() loads built-in
// modules only, so nothing may stay outside the bundle), turned into a blob by this very node,
// injected with postject into a copy of this very node binary (the blob is only valid for the
// node version that made it). Nothing is downloaded.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { unalignSegments } from './elf-unalign.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (name) => `${root}dist/${name}`;
const started = Date.now();
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// 1. One CommonJS file. import.meta is empty in CommonJS; its one use on the agent's path
// (lazy-https.ts: createRequire(import.meta.url), to load node:https lazily) gets a file URL that
// exists, which is all createRequire needs to resolve a built-in module.
const bundle = await rolldown({
  input: dist('cli/agent-sea.js'),
  platform: 'node',
  logLevel: 'warn',
  plugins: [
    {
      name: 'sea-import-meta-url',
      transform(code) {
        if (!code.includes('import.meta.url')) return null;
        return { code: code.replaceAll('import.meta.url', 'require("node:url").pathToFileURL(process.execPath).href'), map: null };
      },
    },
  ],
});
await bundle.write({ file: dist('ringtail-agent.cjs'), format: 'cjs', codeSplitting: false, comments: false });
await bundle.close();

// The agent must not need a native module or any file beside it: in a SEA, require() of anything
// but a built-in throws. Every require() left in the bundle must name a built-in.
const code = readFileSync(dist('ringtail-agent.cjs'), 'utf8');
const builtins = new Set(createRequire(import.meta.url)('node:module').builtinModules);
const foreign = [...code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)]
  .map((m) => m[1])
  .filter((id) => !builtins.has(id.replace(/^node:/, '')));
if (foreign.length > 0 || /\.node["'`]|better-sqlite3|\bimport\(/.test(code)) {
  console.error(`build-agent: the agent bundle needs modules a single executable cannot load: ${[...new Set(foreign)].join(', ') || 'a .node file or a dynamic import()'}`);
  process.exit(1);
}

// A node built without SEA support (some distributions' packages) has no fuse to flip: the
// one-file agent cannot be made with it. That is said, not hidden: the build goes on without
// it (ringtail itself works), and test/e2e/agent-sea.test.ts fails under CI=true, skips elsewhere.
rmSync(dist('ringtail-agent.skipped'), { force: true });
if (!readFileSync(process.execPath).includes(FUSE)) {
  const why = `${process.execPath} (node ${process.version}) has no single-executable-application fuse; build with an official Node.js binary`;
  writeFileSync(dist('ringtail-agent.skipped'), why + '\n');
  rmSync(dist('ringtail-agent'), { force: true });
  process.stderr.write(`build-agent: dist/ringtail-agent NOT built: ${why}\n`);
  process.exit(0);
}

// 2. The blob, made by the node that runs this script (the binary copied below). With V8's code
// cache of the bundle in it, the agent deserialises its top-level code instead of parsing and
// compiling 485 KB of JavaScript at start: peak RSS at full speed 62.0 MB on average instead of
// 62.9 with the file in the page cache, 59.2 instead of 60.8 read from disk (bench/agent-read.mjs
// 1000000, 2–4 runs each, load 13–26; fewer of node's parser pages touched), same CPU. The cache
// is checked against the V8 flags it was made with: the agent's own flags (agent-sea.ts) are set
// after its code is compiled, so they do not invalidate it.
const seaConfig = dist('sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify({ main: dist('ringtail-agent.cjs'), output: dist('ringtail-agent.blob'), disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2),
);
execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });

// 3. A copy of node with the blob injected, written beside the target and renamed over it, so a
// running dist/ringtail-agent (a test's, an operator's) is never overwritten in place.
const tmp = dist(`ringtail-agent.tmp-${process.pid}`);
try {
  copyFileSync(process.execPath, tmp);
  chmodSync(tmp, 0o755);
  const { inject } = createRequire(import.meta.url)('postject');
  await inject(tmp, 'NODE_SEA_BLOB', readFileSync(dist('ringtail-agent.blob')), { sentinelFuse: FUSE });
  // Code and read-only data one page off their 2 MB alignment, so that no fault maps 2 MB of them
  // at once (elf-unalign.mjs: peak RSS 75 → 62 MB with the file in the page cache). Checked by
  // running it: a damaged ELF file must fail the build, not an instance.
  const built = readFileSync(tmp);
  if (built.readUInt32BE(0) === 0x7f454c46) {
    writeFileSync(tmp, unalignSegments(built));
    const help = spawnSync(tmp, ['--help'], { encoding: 'utf8', timeout: 60_000 });
    if (help.status !== 0 || !help.stdout.includes('--collector')) {
      console.error(`build-agent: the one-file agent does not run after its segments were moved (status ${help.status}): ${help.stderr}`);
      process.exit(1);
    }
  }
  // Flushed, then dropped from the page cache: read back on demand by the agent's own page faults,
  // only what it touches is cached (in small folios), which is still ~3 MB less than mapping it
  // from large ones (docs/deploy.md). dd (coreutils) is the only portable fadvise at hand.
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  spawnSync('dd', [`if=${tmp}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
  renameSync(tmp, dist('ringtail-agent'));
} finally {
  rmSync(tmp, { force: true });
}
rmSync(dist('ringtail-agent.blob'), { force: true });
const mb = (statSync(dist('ringtail-agent')).size / 1e6).toFixed(1);
process.stderr.write(`dist/ringtail-agent: ${mb} MB (node ${process.version}), built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
