// Tests that need a Debian tool: under CI=true a missing tool is a failure (CI installs it),
// elsewhere the test is skipped with a printed reason.
import { execFileSync } from 'node:child_process';

export function hasTool(name: string, pkg = name): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${JSON.stringify(name)}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') {
      throw new Error(`${name} is required under CI=true (Debian package ${pkg}; .ci/run installs it)`);
    }
    console.warn(`skipping: ${name} not found (install the Debian package ${pkg})`);
    return false;
  }
}
