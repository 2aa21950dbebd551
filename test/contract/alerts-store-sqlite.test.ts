// The alert store contract against SQLite (the embedded default: answered synchronously inside,
// asyncAlertStore). One collector owns the store: no evaluator lease (that case is skipped).
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { openSqliteAlertStore } from '../../collector/storage/sqlite/alerts.js';
import { tempDir } from '../helpers/proc.js';
import { alertStoreContract } from './alerts.contract.js';

const dir = tempDir('ringtail-alert-store-');
afterAll(() => dir.cleanup());

alertStoreContract('sqlite', async (name) => openSqliteAlertStore(join(dir.path, name)));
