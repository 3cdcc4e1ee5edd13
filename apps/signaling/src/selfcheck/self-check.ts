/** How one check came out: `warning` does not fail the self-check, `error` does. */
export type CheckStatus = 'ok' | 'warning' | 'error';

/** One line of the report; `hint` says in plain words what to do about a failure. */
export interface CheckResult {
  /** What was checked, e.g. `backend nc1 (https://cloud.example.com/)`. */
  name: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
}

export interface SelfCheckReport {
  /** False when any check has status `error`. */
  ok: boolean;
  checks: CheckResult[];
}

/** A named check; `offline` ones need no running server (`--check` runs only those). */
interface RegisteredCheck {
  name: string;
  offline: boolean;
  run: () => Promise<CheckResult[]>;
}

/** Each check gets this long; one that hangs is reported as an error instead of holding the report. */
const CHECK_TIMEOUT_MS = 5_000;

/**
 * The operator's self-check (`GET /api/v1/selfcheck`, `--check`): a list of named checks that
 * each part of the server registers, run concurrently, each bounded in time.
 */
export class SelfCheck {
  readonly #checks: RegisteredCheck[] = [];

  /** Registers a check; `offline: true` when it is meaningful without a started server. */
  add(name: string, run: () => Promise<CheckResult[]>, opts: { offline?: boolean } = {}): void {
    this.#checks.push({ name, run, offline: opts.offline ?? false });
  }

  get names(): string[] {
    return this.#checks.map((c) => c.name);
  }

  async run(opts: { offlineOnly?: boolean; timeoutMs?: number } = {}): Promise<SelfCheckReport> {
    const timeoutMs = opts.timeoutMs ?? CHECK_TIMEOUT_MS;
    const selected = this.#checks.filter((c) => !opts.offlineOnly || c.offline);
    const results = await Promise.all(selected.map((check) => bounded(check, timeoutMs)));
    const checks = results.flat();
    return { ok: checks.every((c) => c.status !== 'error'), checks };
  }
}

async function bounded(check: RegisteredCheck, timeoutMs: number): Promise<CheckResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<CheckResult[]>((resolve) => {
    timer = setTimeout(
      () => resolve([{ name: check.name, status: 'error', detail: `no result within ${timeoutMs} ms`, hint: 'the dependency behind this check hangs; see the server log' }]),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check.run().catch((err: unknown): CheckResult[] => [{ name: check.name, status: 'error', detail: `check failed: ${(err as Error).message}` }]),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The report as text lines, for `--check`. */
export function formatReport(report: SelfCheckReport): string {
  const lines = report.checks.map((c) => {
    const head = `${c.status.toUpperCase().padEnd(7)} ${c.name}: ${c.detail}`;
    return c.hint && c.status !== 'ok' ? `${head}\n        → ${c.hint}` : head;
  });
  lines.push(report.ok ? 'self-check passed' : 'self-check FAILED');
  return lines.join('\n');
}
