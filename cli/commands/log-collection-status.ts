/**
 * The machine's last log collection request as Azure knows it: the request in the public settings
 * and what the handler said about it in its status message (handlers/lifecycle.ts, the enable that
 * took it): requested, still waiting or running, already run, or refused with the handler's reason.
 * The handler reports when it runs; the collection's own end (uploaded or failed, the blob) is
 * recorded on the node, where Get-RemoteSupportLogCollectionHistory reads it.
 */
export type LogCollectionState = 'requested' | 'waiting or running' | 'already run' | 'refused' | 'not reported';

export interface LogCollectionStatus {
  requestId: string;
  state: LogCollectionState;
  /** The handler's own sentence about it. */
  detail: string;
  window?: { from: string; to: string };
  categories?: string[];
}

const NOTE = /Log collection ([0-9a-fA-F-]{36}) (requested|is waiting or running|has already run)[^.]*\./g;
const REFUSAL = /Invalid setting '(?:protectedSettings\.)?logCollection[^']*': .*?Accepted: .*?\.(?=\s|$)/;
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
  const notes = [...text.matchAll(NOTE)];
  const note = notes.find((match) => match[1]!.toLowerCase() === requestId) ?? (requestId ? undefined : notes[0]);
  if (note) return { requestId: note[1]!.toLowerCase(), state: STATES[note[2]!]!, detail: note[0], ...shape };
  if (!requestId) return undefined;
  const refusal = REFUSAL.exec(text);
  if (refusal) return { requestId, state: 'refused', detail: refusal[0], ...shape };
  return { requestId, state: 'not reported', detail: 'the handler has not reported on this request', ...shape };
}
