/**
 * The machine's last log collection request as Azure knows it: the request in the public settings
 * and what the handler said about it in its status message (handlers/lifecycle.ts, the enable that
 * took it): requested, still waiting or running, already run, or refused with the handler's reason.
 * Each enable also says how the node's last collection ended (core/last-log-collection.ts): that
 * outcome (uploaded, failed or cancelled; when; the blob or the reason) is shown when it is about
 * the request in the settings, or when the settings hold none (a later write dropped it). Azure
 * hears from the handler only when it runs: `status --refresh` makes it run.
 */
export type LogCollectionOutcome = 'uploaded' | 'failed' | 'cancelled';
export type LogCollectionState = 'requested' | 'waiting or running' | 'already run' | 'refused' | 'not reported' | LogCollectionOutcome;

export interface LogCollectionStatus {
  requestId: string;
  state: LogCollectionState;
  /** The handler's own sentence about it. */
  detail: string;
  window?: { from: string; to: string };
  categories?: string[];
  /** When it ended, for an outcome. */
  endedAt?: string;
  /** `<account>/<container>/<blob>`, when uploaded. */
  blob?: string;
  /** Why it failed or was cancelled. */
  reason?: string;
}

const NOTE = /Log collection ([0-9a-fA-F-]{36}) (requested|is waiting or running|has already run)[^.]*\./g;
const REFUSAL = /Invalid setting '(?:protectedSettings\.)?logCollection[^']*': .*?Accepted: .*?\.(?=\s|$)/;
const OUTCOME =
  /[Ll]ast log collection ([0-9a-fA-F-]{36}) (uploaded|failed|cancelled) at (\S+?)(?: to (\S+?\/\S+?\/\S+?)(?=[.;]?(?:\s|$))|: "([^"]*)")/;
const STATES: Record<string, LogCollectionState> = {
  requested: 'requested',
  'is waiting or running': 'waiting or running',
  'has already run': 'already run',
};

export function logCollectionStatus(
  settings: Record<string, unknown> | undefined,
  message: string | undefined,
): LogCollectionStatus | undefined {
  const text = (message ?? '').replace(/\s*\r?\n\s*/g, ' ');
  const asked = settings?.logCollection as
    { requestId?: unknown; window?: { from: string; to: string }; categories?: string[] } | undefined;
  const requestId = typeof asked?.requestId === 'string' ? asked.requestId.toLowerCase() : undefined;
  const shape = {
    ...(requestId && asked?.window ? { window: asked.window } : {}),
    ...(requestId && Array.isArray(asked?.categories) ? { categories: asked.categories } : {}),
  };
  const ended = OUTCOME.exec(text);
  if (ended && (!requestId || ended[1]!.toLowerCase() === requestId)) {
    const [detail, id, outcome, endedAt, blob, reason] = ended;
    return {
      requestId: id!.toLowerCase(),
      state: outcome as LogCollectionOutcome,
      detail: `${detail!.charAt(0).toUpperCase()}${detail!.slice(1)}.`,
      endedAt: endedAt!,
      ...(blob ? { blob } : {}),
      ...(reason !== undefined ? { reason } : {}),
      ...shape,
    };
  }
  const notes = [...text.matchAll(NOTE)];
  const note = notes.find((match) => match[1]!.toLowerCase() === requestId) ?? (requestId ? undefined : notes[0]);
  if (note) return { requestId: note[1]!.toLowerCase(), state: STATES[note[2]!]!, detail: note[0], ...shape };
  if (!requestId) return undefined;
  const refusal = REFUSAL.exec(text);
  if (refusal) return { requestId, state: 'refused', detail: refusal[0], ...shape };
  return { requestId, state: 'not reported', detail: 'the handler has not reported on this request', ...shape };
}
