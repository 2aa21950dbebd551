// `ringtail up`: zero configuration. A collector in this process, a local agent as a child
// process (restarted if it dies), data in ./data, ringtail's own log followed as well.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { CollectorConfig } from '../../collector/config.js';
import { startCollector } from '../../collector/server.js';
import { withOptions, type Command } from '../command.js';
import { untilSignal } from '../signals.js';
import { checkListen } from './collector.js';

export const DEFAULT_UP_WATCH = ['/var/log/*.log', '/var/log/syslog', '/var/log/messages'];
const LOCAL_AGENT_TOKEN_NAME = 'local agent (ringtail up)';

const UpOptions = Type.Composite(
  [
    Type.Pick(CollectorConfig, ['data', 'listen', 'admin_token', 'log_level', 'syslog']),
    Type.Object({
      watch: Type.Array(Type.String({ minLength: 1 }), {
        default: DEFAULT_UP_WATCH,
        description: 'glob of log files for the local agent (ringtail\'s own log is always added)',
      }),
    }),
  ],
  { additionalProperties: false },
);
type UpOptions = Static<typeof UpOptions>;

const BIN = fileURLToPath(new URL('../../../bin/ringtail', import.meta.url));

export const upCommand: Command = {
  name: 'up',
  summary: 'Collector plus a local agent, zero configuration: data in ./data, dashboard on http://127.0.0.1:8080.',
  run: (argv) =>
    withOptions<UpOptions>('ringtail up [options]', upCommand.summary, UpOptions, argv, async (o) => {
      checkListen(o.listen);
      const data = resolve(o.data);
      mkdirSync(data, { recursive: true });
      const ownLog = join(data, 'ringtail.log');
      const running = await startCollectorLogged(o, data, ownLog);
      const storage = running.app.storage;
      for (const t of await storage.tokens.list()) {
        if (t.name === LOCAL_AGENT_TOKEN_NAME && t.revoked_at === null) await storage.tokens.revoke(t.id, Date.now());
      }
      const agentToken = (await storage.tokens.create('agent', LOCAL_AGENT_TOKEN_NAME, Date.now())).token;
      const watch = [...o.watch, join(data, '*.log')];
      const agentArgs = ['agent', '--collector', running.url, '--state', join(data, 'agent'), '--host', hostname()];
      for (const w of watch) agentArgs.push('--watch', w);
      const supervisor = superviseAgent(agentArgs, agentToken, join(data, 'agent.log'));

      const admin = running.admin.token
        ? `${running.admin.token}${running.admin.file ? `  (kept in ${running.admin.file})` : ''}`
        : '(the admin token you created earlier; `ringtail token create --role admin` makes another)';
      process.stdout.write(
        [
          `ringtail is up: ${running.url}`,
          `  dashboard:    ${running.url}/`,
          `  admin token:  ${admin}`,
          `  data:         ${data}`,
          `  watching:     ${watch.join(' ')}`,
          `  syslog:       ${running.app.syslog.addresses().map((a) => `${a.transport}://${a.host}:${a.port}`).join(' ') || 'off'}`,
          `  try:          curl -H "Authorization: Bearer <admin token>" ${running.url}/api/v1/logs`,
          '',
        ].join('\n'),
      );
      await untilSignal();
      await supervisor.stop();
      await running.close();
      return 0;
    }),
};

async function startCollectorLogged(o: UpOptions, data: string, ownLog: string) {
  // The collector's own log goes to a file the local agent follows: ringtail watches itself.
  const stream = createWriteStream(ownLog, { flags: 'a' });
  const running = await startCollector({ data, listen: o.listen, admin_token: o.admin_token, log_level: o.log_level, body_limit: 16 * 1024 * 1024, syslog: o.syslog }, stream);
  return running;
}

function superviseAgent(args: string[], token: string, logFile: string) {
  let child: ChildProcess | null = null;
  let stopping = false;
  let restarts = 0;
  const log = createWriteStream(logFile, { flags: 'a' });
  const launch = () => {
    child = spawn(process.execPath, [BIN, ...args], {
      // two malloc arenas, as ringtail-agent.service sets: ~2.5 MB less RSS (docs/deploy.md)
      env: { MALLOC_ARENA_MAX: '2', ...process.env, RINGTAIL_TOKEN: token },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.pipe(log, { end: false });
    const started = Date.now();
    child.on('exit', (code, signal) => {
      child = null;
      if (stopping) return;
      restarts = Date.now() - started > 60_000 ? 0 : restarts + 1;
      const wait = Math.min(30_000, 500 * 2 ** restarts);
      process.stderr.write(`ringtail up: agent exited (${signal ?? code}); restarting in ${wait} ms\n`);
      setTimeout(() => !stopping && launch(), wait).unref();
    });
  };
  launch();
  return {
    async stop() {
      stopping = true;
      const c = child as ChildProcess | null;
      if (c && c.exitCode === null) {
        await new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        });
      }
      log.end();
    },
  };
}
