// `ringtail relaunch`: receive signed alert webhooks and run the matching commands.
import { ConfigError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { secretKey } from '../../shared/webhook-signature.js';
import { withOptions, type Command } from '../command.js';
import { RelaunchConfig, checkActions, parseListen } from '../relaunch/config.js';
import { startReceiver } from '../relaunch/receiver.js';
import { untilSignal } from '../signals.js';

export const relaunchCommand: Command = {
  name: 'relaunch',
  summary: 'Receive signed alert webhooks and run the matching commands (restart an app, launch a replacement instance).',
  run: (argv) =>
    withOptions<RelaunchConfig>('ringtail relaunch --config FILE [options]', relaunchCommand.summary, RelaunchConfig, argv, async (config) => {
      if (parseListen(config.listen).port > 65535) throw new ConfigError('--listen', 'port out of range (0-65535)');
      try {
        secretKey(config.secret);
      } catch (err) {
        throw new ConfigError('--secret', (err as Error).message);
      }
      checkActions(config.actions);
      const log = createLogger(process.stderr, 'info', { component: 'relaunch' });
      const receiver = await startReceiver({ config, log });
      process.stdout.write(`ringtail relaunch listening on ${receiver.url}\n`);
      await untilSignal();
      await receiver.close();
      await receiver.idle();
      return 0;
    }),
};
