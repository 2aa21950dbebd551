// The entry of the one-file agent (dist/ringtail-agent, `npm run build:agent`): Node's
// single-executable-application support runs this, bundled to one CommonJS file, inside a copy
// of the node binary. It is `ringtail agent` and nothing else: argv[1] is the executable itself,
// so the flags start at argv[2].
import { setFlagsFromString } from 'node:v8';

// The same V8 settings bin/ringtail makes for `ringtail agent` (its comment has the measurements:
// the agent's 64 MB RSS budget). Node 20's SEA config has no execArgv; both flags are read when
// they apply (each young-generation resize, each compilation), so setting them here, before the
// agent's modules are initialised, is as good as on the command line.
setFlagsFromString('--semi-space-growth-factor=1');
setFlagsFromString('--no-turbo-inlining');

void (async () => {
  try {
    const { agentCommand } = await import('./commands/agent.js');
    process.exitCode = await agentCommand.run(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`ringtail-agent: RINGTAIL_ERR_INTERNAL ${err instanceof Error && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  }
})();
