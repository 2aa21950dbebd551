// Builds earlier ringtail versions for the compatibility fixtures (scripts/compat/make-fixtures.mjs):
// each commit is checked out with `git worktree add` under a scratch directory, shares this
// checkout's node_modules, and is compiled with its own tsconfig (tsc only: the agent bundle
// and the single executable are not needed to write a database or record wire bodies).
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);

/** A worktree of `commit` with dist/ built; reused when already there. */
export function oldBuild(commit, scratch) {
  const dir = join(scratch, commit);
  if (!existsSync(dir)) execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, commit], { stdio: 'inherit' });
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  if (!existsSync(join(dir, 'dist/cli/main.js'))) {
    const project = existsSync(join(dir, 'tsconfig.build.json')) ? 'tsconfig.build.json' : 'tsconfig.json';
    process.stderr.write(`building ${commit} (${project})\n`);
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', project], { cwd: dir, stdio: 'inherit' });
  }
  return dir;
}

export function removeBuild(commit, scratch) {
  execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', join(scratch, commit)], { stdio: 'inherit' });
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const scratch = process.argv[2];
  for (const c of process.argv.slice(3)) oldBuild(c, scratch);
}
