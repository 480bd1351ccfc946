/** One line of the doctor's report: what was checked, how it went, and on a failure what to change. */
export interface CheckResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** What was found; on a failure, what to change. */
  readonly detail: string;
  /** A failure that would make calls fail: the doctor then exits non-zero. */
  readonly blocking: boolean;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail, blocking: false });
export const fail = (name: string, detail: string, blocking = true): CheckResult => ({ name, status: 'fail', detail, blocking });
export const skip = (name: string, why: string): CheckResult => ({ name, status: 'skip', detail: why, blocking: false });

const SYMBOLS = { pass: '✓', fail: '✗', skip: '–' } as const;

/** `✓ Twilio credentials: account "Acme" (Full)`; a failure that does not stop calls says so. */
export function formatCheck(check: CheckResult): string {
  const note = check.status === 'fail' && !check.blocking ? ' (does not stop calls by itself)' : '';
  return `${SYMBOLS[check.status]} ${check.name}: ${check.detail}${note}`;
}

/** Resolves with `promise`, or rejects after `ms` naming `what` (a check must never hang the doctor). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
