// node:https, and tls with it, costs the agent about 1 MB of RSS; most agents talk plain http to
// a collector on their own network, so it is loaded only when an https URL is used.
import { createRequire } from 'node:module';
import type * as Https from 'node:https';

const load = createRequire(import.meta.url);
let mod: typeof Https | undefined;

export function lazyHttps(): typeof Https {
  return (mod ??= load('node:https') as typeof Https);
}
