/**
 * What the machine's owner sees of access on a node (Get-RemoteSupportAccess, through the node
 * agent's `status`): the recorded grant and its state, the past grants from the history, and
 * access that no grant accounts for.
 */
import { pastGrants, type HistoryEntry, type PastGrantState } from './access-history';
import type { DesiredRecord } from './desired-record';
import { isExpired } from './desired-state';
import { GROUPS } from './node-layout';
import { grantInForce } from './node-intent';
import { accessGroupFor } from './node-plan';

export type GrantState = 'Active' | 'Expired' | 'Disabled' | PastGrantState;

export interface GrantView {
  level: string;
  state: GrantState;
  grantId: string;
  expiresAt: Date | null;
  /** Whole seconds, zero unless Active. */
  timeLeftSeconds: number;
  supportRequestId: string | null;
  termsVersion: string | null;
  acceptedBy: string | null;
  acceptedAt: Date | null;
  endedAt: Date | null;
  endedBy: string | null;
  /** The level group's members now; none for past grants (the history keeps no membership). */
  engineers: string[];
}

export interface AccessViewInputs {
  record: DesiredRecord;
  now: Date;
  members: { diagnostics: string[]; repair: string[] };
  /** With the history: the recorded grant after it ended too, and the past grants. */
  history?: HistoryEntry[];
}

export interface AccessView {
  /** The recorded grant (when in force, or with the history), then the past grants, newest first. */
  grants: GrantView[];
  /** Access groups with members while no grant is in force: access nobody recorded. */
  unrecordedAccess: Array<{ group: string; members: string[] }>;
}

export function accessView(inputs: AccessViewInputs): AccessView {
  const { record, now, members, history } = inputs;
  const recorded = record.grant;
  const inForce = grantInForce(record, now);
  const grants: GrantView[] = [];
  if (recorded && (inForce || history)) {
    const expired = isExpired(recorded, now);
    const group = accessGroupFor(recorded);
    grants.push({
      level: recorded.level,
      state: inForce ? 'Active' : expired ? 'Expired' : 'Disabled',
      grantId: recorded.grantId,
      expiresAt: recorded.expiresAt,
      timeLeftSeconds: inForce ? Math.floor((recorded.expiresAt.getTime() - now.getTime()) / 1000) : 0,
      supportRequestId: recorded.supportRequestId,
      termsVersion: recorded.consent.termsVersion,
      acceptedBy: recorded.consent.acceptedBy,
      acceptedAt: recorded.consent.acceptedAt,
      endedAt: !inForce && expired ? recorded.expiresAt : null,
      endedBy: !inForce && expired ? 'expiry' : null,
      engineers: group === 'diagnostics' || group === 'repair' ? [...members[group]] : [],
    });
  }
  for (const past of history ? pastGrants(history, recorded?.grantId ?? null) : []) {
    const { lastEntryAt: _ordering, ...fields } = past;
    grants.push({ ...fields, timeLeftSeconds: 0, engineers: [] });
  }
  const unrecordedAccess = inForce
    ? []
    : (['diagnostics', 'repair'] as const)
        .filter((key) => members[key].length > 0)
        .map((key) => ({ group: GROUPS[key], members: [...members[key]] }));
  return { grants, unrecordedAccess };
}
