/** What happened to one target. `skipped` means nothing was attempted (e.g. a node with no Arc machine). */
export type TargetResult = 'ok' | 'failed' | 'skipped';

export interface TargetOutcome {
  result: TargetResult;
  detail: string;
  /** The public settings sent, exactly (never protected settings). */
  settingsSent?: Record<string, unknown>;
}

export function exitCodeFor(results: TargetResult[]): 0 | 3 | 4 {
  const ok = results.filter((result) => result === 'ok').length;
  if (ok === results.length) return 0;
  return ok === 0 ? 4 : 3;
}
