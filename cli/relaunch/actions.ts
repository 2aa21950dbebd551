// From alerts to commands. An action matches an alert by its labels; its command is an argv
// array run without a shell, and the alert's fields reach it only as RINGTAIL_ALERT_*
// environment variables, never as text spliced into a command line (Nagios strips shell
// metacharacters from plugin output for the same reason; here nothing is ever parsed by a shell).
// Nothing else of relaunch's environment reaches it but PATH, HOME, LANG and what the action's
// `env` names: never RINGTAIL_SECRET, which would let whoever reads it forge webhooks.
// The alert's evidence (log lines, metric points) reaches it as files named by environment
// variables (cli/relaunch/evidence.ts), removed when the command exits.
// Restart limit, as Monit's "if 3 restarts within 5 cycles then unmonitor": after max_runs runs
// within within_s the action is suspended until the operator resumes it.
import { spawn } from 'node:child_process';
import type { Logger } from '../../shared/logger.js';
import { refusedEnvName, type RelaunchAction } from './config.js';
import { writeEvidence, type EvidenceFiles } from './evidence.js';
import type { ActionState, ReceiverState } from './state.js';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  /** ringtail's extra field: `{ evidence }` on firing alerts (collector/alerts/evidence.ts) */
  ringtail?: unknown;
}

export interface CompiledAction {
  spec: RelaunchAction;
  matches(alert: WebhookAlert): boolean;
}

export function compileAction(a: RelaunchAction): CompiledAction {
  const exact = Object.entries(a.match ?? {});
  const re = Object.entries(a.match_re ?? {}).map(([k, v]) => [k, new RegExp(`^(?:${v})$`)] as const);
  const on = a.on ?? ['firing'];
  return {
    spec: a,
    matches: (alert) =>
      on.includes(alert.status) && exact.every(([k, v]) => alert.labels[k] === v) && re.every(([k, r]) => r.test(alert.labels[k] ?? '')),
  };
}

/** NUL cannot travel in an environment variable; everything else passes as is. */
function envValue(v: string): string {
  return v.replace(/\0/g, '');
}

export function alertEnv(alert: WebhookAlert, action: string, webhookId: string): Record<string, string> {
  const env: Record<string, string> = {
    RINGTAIL_ACTION: action,
    RINGTAIL_WEBHOOK_ID: webhookId,
    RINGTAIL_ALERT_STATUS: alert.status,
    RINGTAIL_ALERT_NAME: alert.labels.alertname ?? '',
    RINGTAIL_ALERT_HOST: alert.labels.host ?? '',
    RINGTAIL_ALERT_SEVERITY: alert.labels.severity ?? '',
    RINGTAIL_ALERT_SUMMARY: alert.annotations.summary ?? '',
    RINGTAIL_ALERT_DESCRIPTION: alert.annotations.description ?? '',
    RINGTAIL_ALERT_STARTS_AT: alert.startsAt,
    RINGTAIL_ALERT_ENDS_AT: alert.endsAt,
    RINGTAIL_ALERT_FINGERPRINT: alert.fingerprint,
    RINGTAIL_ALERT_LABELS: JSON.stringify(alert.labels),
    RINGTAIL_ALERT_ANNOTATIONS: JSON.stringify(alert.annotations),
  };
  for (const k of Object.keys(env)) env[k] = envValue(env[k]!);
  return env;
}

/** What every command gets from relaunch's own environment, where set (docs/alerts.md). */
export const PASSED_ENV: readonly string[] = ['PATH', 'HOME', 'LANG'];

/** The whole environment of one run: PASSED_ENV and the action's allow-list from `parent`, then the alert. */
export function commandEnv(
  spec: RelaunchAction,
  alert: WebhookAlert,
  webhookId: string,
  parent: NodeJS.ProcessEnv = process.env,
  evidence: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of [...PASSED_ENV, ...(spec.env ?? [])]) {
    const v = parent[name];
    // the config check refuses these names; checked again so no path can pass the secret
    if (v !== undefined && refusedEnvName(name) === null) env[name] = envValue(v);
  }
  return Object.assign(env, alertEnv(alert, spec.name, webhookId), evidence);
}

export interface PlannedRun {
  action: CompiledAction;
  alert: WebhookAlert;
}

export interface Plan {
  runs: PlannedRun[];
  /** actions that reached their limit now, or were already suspended */
  suspended: string[];
}

/**
 * Decides what to run for one delivery and records it in `state` (runs counted, suspensions
 * set). The caller persists the state before running anything.
 */
export function plan(actions: CompiledAction[], alerts: WebhookAlert[], state: ReceiverState, now: number, log: Logger): Plan {
  const out: Plan = { runs: [], suspended: [] };
  for (const alert of alerts) {
    for (const action of actions) {
      if (!action.matches(alert)) continue;
      const name = action.spec.name;
      let st: ActionState | undefined = state.actions.get(name);
      if (st === undefined) state.actions.set(name, (st = { runs: [], suspended_at: null }));
      const windowMs = (action.spec.within_s ?? 300) * 1000;
      st.runs = st.runs.filter((t) => t > now - windowMs);
      if (st.suspended_at !== null) {
        out.suspended.push(name);
        log.warn({ event: 'relaunch.action.skipped', action: name, fingerprint: alert.fingerprint, suspended_at: st.suspended_at }, 'action suspended; not running');
        continue;
      }
      if (st.runs.length >= (action.spec.max_runs ?? 3)) {
        st.suspended_at = now;
        out.suspended.push(name);
        log.error(
          { event: 'relaunch.action.suspended', action: name, runs: st.runs.length, within_s: action.spec.within_s ?? 300 },
          `action '${name}' ran ${st.runs.length} times within ${action.spec.within_s ?? 300} s: suspended until resumed (ringtail relaunch --resume)`,
        );
        continue;
      }
      st.runs.push(now);
      out.runs.push({ action, alert });
    }
  }
  return out;
}

export interface RunResult {
  action: string;
  fingerprint: string;
  started_at: number;
  exit_code: number | null;
  signal: string | null;
  error: string | null;
  output: string;
  /** the evidence files could not be written: the command ran without them */
  evidence_error?: string;
}

/** Runs one command (argv, no shell) and resolves when it exits; never rejects. */
export function runCommand(run: PlannedRun, webhookId: string, now: () => number): Promise<RunResult> {
  const { spec } = run.action;
  const started = now();
  return new Promise((done) => {
    let files: EvidenceFiles | null = null;
    let evidenceError: string | undefined;
    // the evidence files live exactly as long as the command
    const resolve = (r: RunResult) => {
      files?.cleanup();
      done(evidenceError === undefined ? r : { ...r, evidence_error: evidenceError });
    };
    try {
      files = writeEvidence(run.alert);
    } catch (err) {
      // a full or read-only temp dir must not stop a restart: it runs without the evidence
      evidenceError = (err as Error).message;
    }
    let output = '';
    const keep = (d: Buffer) => {
      if (output.length < 4096) output += d.toString('utf8').slice(0, 4096 - output.length);
    };
    let child;
    try {
      child = spawn(spec.command[0]!, spec.command.slice(1), {
        shell: false,
        env: commandEnv(spec, run.alert, webhookId, process.env, files?.env),
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: (spec.timeout_s ?? 60) * 1000,
      });
    } catch (err) {
      resolve({ action: spec.name, fingerprint: run.alert.fingerprint, started_at: started, exit_code: null, signal: null, error: (err as Error).message, output });
      return;
    }
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (err) =>
      resolve({ action: spec.name, fingerprint: run.alert.fingerprint, started_at: started, exit_code: null, signal: null, error: err.message, output }),
    );
    // 'exit', not 'close': a command that starts a daemon leaves our pipes open in the daemon.
    child.on('exit', (code, signal) => {
      child.stdout!.destroy();
      child.stderr!.destroy();
      resolve({ action: spec.name, fingerprint: run.alert.fingerprint, started_at: started, exit_code: code, signal, error: null, output });
    });
  });
}
