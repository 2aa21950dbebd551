import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e tests start real processes and sockets; two cores are shared with them.
    maxWorkers: 2,
    // Every ringtail process a test starts binds its syslog receiver to free ports (flags still
    // win), so parallel tests never fight over the default 5514.
    env: { RINGTAIL_SYSLOG_UDP_PORT: '0', RINGTAIL_SYSLOG_TCP_PORT: '0', RINGTAIL_SYSLOG_TLS_PORT: '0' },
    reporters: ['default'],
  },
});
