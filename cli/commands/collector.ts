import { CollectorConfig, parseListen } from '../../collector/config.js';
import { startCollector } from '../../collector/server.js';
import { ConfigError } from '../../shared/errors.js';
import { withOptions, type Command } from '../command.js';
import { untilSignal } from '../signals.js';

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
      const running = await startCollector(config);
      process.stdout.write(`ringtail collector listening on ${running.url}\n`);
      for (const a of running.app.syslog.addresses()) process.stdout.write(`syslog receiver on ${a.transport}://${a.host}:${a.port}\n`);
      if (running.admin.generated) {
        process.stdout.write(`admin token (saved in ${running.admin.file}): ${running.admin.token}\n`);
      }
      // SIGHUP re-reads the TLS certificate and key; connections already open keep theirs.
      const onHup = () => {
        if (running.tls) running.tls.reload(running.app.events);
        else running.app.events.emit('reload.nothing', { reason: 'no tls.cert configured' });
      };
      process.on('SIGHUP', onHup);
      await untilSignal();
      process.off('SIGHUP', onHup);
      await running.close();
      return 0;
    }),
};
