import fp from 'fastify-plugin';
import { openSqliteStorage } from '../storage/sqlite/index.js';
import type { Storage } from '../storage/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
  }
}

export interface StoragePluginOptions {
  dataDir: string;
  /** an already open storage (tests, other backends); the app then does not close it */
  storage?: Storage;
}

export const storagePlugin = fp<StoragePluginOptions>(
  async (app, opts) => {
    const storage = opts.storage ?? openSqliteStorage(opts.dataDir);
    app.decorate('storage', storage);
    if (!opts.storage) app.addHook('onClose', async () => storage.close());
  },
  { name: 'ringtail-storage' },
);
