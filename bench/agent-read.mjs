// `node bench/agent-read.mjs [N] [agent flags…]` (after `npm run build`): the agent alone, reading
// an N-line file (default 200,000; the same lines as `npm run bench -- logs`) at full speed and
// shipping to a stand-in collector in this process that acknowledges every batch at once, so the
// agent, not the collector, sets the pace. Prints the time until every line is acknowledged,
// lines/s, the agent's CPU seconds, its peak RSS (VmHWM) and its peak private memory (RssAnon,
// sampled every 50 ms). Not a `npm run bench` benchmark (no peer): a probe for the agent's memory
// (BENCHMARKS.md, logs). WT=dir runs another checkout's bin/ringtail (as a program: `bin/ringtail
// agent`); FORM=node runs it as `node bin/ringtail agent`; NODEFLAGS adds node flags (and so FORM=node);
// SEA=path runs a one-file agent (dist/ringtail-agent) instead, AGENT_CMD='cmd args' any command;
// SMAPS=1 prints RSS per mapping; PROBE='cmd args' runs `cmd args PID` on the agent at the end (a
// /proc/PID/pagemap or smaps reader) and prints its output.
import { spawn, execFileSync } from 'node:child_process';
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, existsSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
const WT = process.env.WT || fileURLToPath(new URL('..', import.meta.url));
const n = Number(process.argv[2] || 200000);
const extra = process.argv.slice(3);
const input = join(tmpdir(), `ringtail-agent-read-${n}.log`);
if (!existsSync(input)) {
  const out = createWriteStream(input); const pad = 'lorem ipsum dolor sit amet consectetur'; let chunk = '';
  for (let i = 0; i < n; i++) { const s = String(i % 60).padStart(2, '0');
    chunk += `Nov 23 18:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${s} bench-host app[${1000 + (i % 50)}]: request ${i} served in ${i % 997} ms ${pad}\n`;
    if (chunk.length > 1 << 20) { if (!out.write(chunk)) await new Promise(r => out.once('drain', r)); chunk = ''; } }
  out.end(chunk); await new Promise(r => out.once('finish', r));
}
let lines = 0, tDone = 0, batches = 0;
const t0 = performance.now();
const srv = http.createServer((req, res) => { const c = []; req.on('data', d => c.push(d)); req.on('end', () => {
  if (req.url.includes('ingest') && !req.url.includes('metrics')) { let b = Buffer.concat(c); if (req.headers['content-encoding'] === 'gzip') b = gunzipSync(b);
    globalThis.maxBody = Math.max(globalThis.maxBody ?? 0, b.length);
    // one batch as JSON, or (an agent with a backlog) several as NDJSON answered with an array of acks
    const multi = String(req.headers['content-type']).startsWith('application/x-ndjson');
    const docs = multi ? b.toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [JSON.parse(b)];
    const acks = docs.map((j) => { const committed = {}; for (const s of j.segments) { lines += s.lines.length; committed[s.stream] = s.end; } batches++; return { accepted: 0, duplicates: 0, committed }; });
    if (lines >= n && !tDone) tDone = performance.now();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(multi ? acks : acks[0])); } else res.end('{}'); }); });
await new Promise(r => srv.listen(0, '127.0.0.1', r));
const dir = mkdtempSync(join(tmpdir(), 'ringtail-agent-read-'));
const cmd = process.env.SEA ? [process.env.SEA] : process.env.AGENT_CMD ? process.env.AGENT_CMD.split(' ') : null;
// bin/ringtail run as a program (its sh line sets the agent's MALLOC_ARENA_MAX), as a clone runs it;
// NODEFLAGS or FORM=node run `node [flags] bin/ringtail agent` instead.
const viaNode = process.env.NODEFLAGS || process.env.FORM === 'node';
const agent = spawn(cmd ? cmd[0] : viaNode ? process.execPath : join(WT, 'bin/ringtail'), [...(cmd ? cmd.slice(1) : viaNode ? [...(process.env.NODEFLAGS ? process.env.NODEFLAGS.split(' ') : []), join(WT, 'bin/ringtail'), 'agent'] : ['agent']), '--collector', `http://127.0.0.1:${srv.address().port}`, '--token', 'tok_probe_123456', '--watch', input, '--state', join(dir, 'state'), '--host', 'h', '--stats-interval-ms', '600000', ...extra], { stdio: ['ignore', process.env.SHOWOUT ? 'inherit' : 'ignore', process.env.SHOWERR ? 'inherit' : 'ignore'] });
const st = () => { try { const s = readFileSync(`/proc/${agent.pid}/status`, 'utf8'); const g = k => Number(new RegExp(k + ':\\s+(\\d+)').exec(s)[1]) / 1024; return { hwm: g('VmHWM'), rss: g('VmRSS'), anon: g('RssAnon'), file: g('RssFile') }; } catch { return null; } };
let maxAnon = 0;
while (!tDone) { await new Promise(r => setTimeout(r, 50)); const s = st(); if (s) maxAnon = Math.max(maxAnon, s.anon); if (agent.exitCode !== null) { console.log('agent exited'); process.exit(1); } if (performance.now() - t0 > 300000) break; }
const end = st();
if (process.env.PROBE) process.stdout.write(execFileSync(process.env.PROBE.split(' ')[0], [...process.env.PROBE.split(' ').slice(1), String(agent.pid)]));
if (process.env.SMAPS) { const sm = readFileSync(`/proc/${agent.pid}/smaps`, 'utf8').split('\n'); let cur=''; const acc={}; for (const l of sm) { if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) { const parts=l.trim().split(/\s+/); cur=(parts[5]||'[anon]')+' '+parts[1]; } else if (l.startsWith('Rss:')) { acc[cur]=(acc[cur]||0)+Number(l.split(/\s+/)[1]); } } console.log(Object.entries(acc).filter(([k,v])=>v>1024).sort((a,b)=>b[1]-a[1]).map(([k,v])=>k+' '+(v/1024).toFixed(1)).join('\n')); }
const cpu = (() => { const f = readFileSync(`/proc/${agent.pid}/stat`, 'utf8'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) / 100; })();
agent.kill('SIGTERM'); await new Promise(r => agent.once('exit', r)); srv.close(); rmSync(dir, { recursive: true, force: true });
const secs = (tDone - t0) / 1000;
console.log(JSON.stringify({ n, lines, batches, secs: +secs.toFixed(2), lps: Math.round(n / secs), cpu, hwm: +end.hwm.toFixed(1), rssEnd: +end.rss.toFixed(1), maxAnon: +maxAnon.toFixed(1), file: end.file, maxBodyBytes: globalThis.maxBody }));
