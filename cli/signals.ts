/** Resolves on the first SIGINT or SIGTERM, so commands can shut down in order. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * Calls `handler` on every `sig` (SIGHUP: reload) until the returned function is called. A
 * handler's rejection is its own to report; it never ends the process. Node's default for
 * SIGHUP is to exit, so a command that does not ask for it still dies on `systemctl reload`.
 */
export function onSignal(sig: NodeJS.Signals, handler: () => unknown): () => void {
  let running: Promise<unknown> = Promise.resolve();
  // one at a time, in order: a second SIGHUP during a reload runs after it, not beside it
  const on = () => {
    running = running.then(handler).catch(() => undefined);
  };
  process.on(sig, on);
  return () => process.off(sig, on);
}
