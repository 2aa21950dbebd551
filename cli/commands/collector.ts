import { CollectorConfig, parseListen } from '../../collector/config.js';
import { setHeapGrowth } from '../../collector/memory.js';
import { reloadCollector } from '../../collector/reload.js';
import { startCollector } from '../../collector/server.js';
import { storageConfig, storagePlaces } from '../../collector/storage/factory.js';
import { ConfigError } from '../../shared/errors.js';
import { withOptions, type Command } from '../command.js';
import { loadOptions } from '../options.js';
import { onSignal, untilSignal } from '../signals.js';

export function checkListen(listen: string): void {
  const { port } = parseListen(listen);
  if (port > 65535) throw new ConfigError('--listen', `port ${port} is out of range (0-65535)`);
}

export const collectorCommand: Command = {
  name: 'collector',
  summary: 'Run the central collector: ingest API, query API and dashboard on one port.',
  run: (argv) =>
    withOptions<CollectorConfig>('ringtail collector [options]', collectorCommand.summary, CollectorConfig, argv, async (config) => {
      checkListen(config.listen);
      // process-wide (every isolate, threads included): here, not in startCollector, which tests run in their own process
      setHeapGrowth(config.memory.heap_growth_percent);
      const running = await startCollector(config);
      process.stdout.write(`ringtail collector listening on ${running.url}\n`);
      if (config.storage === 'clickhouse') {
        // what is shared and what is this collector's own (docs/scale-out.md)
        const places = storagePlaces(storageConfig(config));
        const local = places.local.length > 0 ? `; ${places.local.join(', ')} in ${config.data} (SQLite, this collector's own)` : '';
        process.stdout.write(`storage: ${places.shared.join(', ')} in ClickHouse (database ${config.clickhouse.database})${local}\n`);
      }
      for (const a of running.app.syslog.addresses()) process.stdout.write(`syslog receiver on ${a.transport}://${a.host}:${a.port}\n`);
      if (running.admin.generated) {
        process.stdout.write(`admin token (saved in ${running.admin.file}): ${running.admin.token}\n`);
      }
      // SIGHUP: the config file (and environment) read again; filters and alert rules applied (collector/reload.ts)
      let current = config;
      const offReload = onSignal('SIGHUP', () => {
        try {
          const next = loadOptions<CollectorConfig>(CollectorConfig, argv).options;
          const outcome = reloadCollector(running.app, current, next);
          current = next;
          running.app.events.emit('config.reloaded', { ...outcome }, outcome.restart_needed.length > 0 ? 'warn' : 'info');
        } catch (err) {
          const e = err as { code?: string; message: string };
          running.app.events.emit('config.reload_failed', { code: e.code ?? 'RINGTAIL_ERR_INTERNAL', error: e.message }, 'warn');
        }
      });
      // SIGHUP also re-reads the TLS certificate and key; connections already open keep theirs.
      const offTls = onSignal('SIGHUP', () => {
        if (running.tls) running.tls.reload(running.app.events);
      });
      // A part that cannot restart in place (a storage thread) ends the process non-zero, for
      // its supervisor to start it again (collector/health.ts).
      const ended = await Promise.race([untilSignal().then(() => null), running.app.health.untilFailure()]);
      offReload();
      offTls();
      if (!ended) {
        await running.close();
        return 0;
      }
      process.stderr.write(`RINGTAIL_ERR_PART_FAILED: ${ended.part} failed (${ended.error}); exiting for a restart\n`);
      // what is queued behind the dead part cannot drain: a bounded close, then out
      await Promise.race([running.close().catch(() => {}), new Promise((r) => setTimeout(r, 10_000).unref())]);
      return 1;
    }),
};
