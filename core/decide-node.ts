/**
 * What to do with one node, decided from what its observe batch showed: converge it to a record
 * (with the intent that gets it there), or leave it as it is and say why. The same decision for
 * this node and for each cluster peer its extension covers (`cluster.installOnPeers`). Pure: the
 * handler reads what `factsToRead` names (the license, the package's JEA and agent files), then
 * asks `decideNode`.
 */
import type { ProbeResult } from '../windows/operations';
import { parseDesiredRecord, type DesiredRecord } from './desired-record';
import { endedGrantBlocking, knownEndedGrants, recordEnds, withoutUpdateDisable, type EndedGrant } from './ended-grants';
import { DESIRED_STATE_FILE, HISTORY_FILE } from './node-layout';
import { buildNodeIntent, buildRemovalIntent, grantInForce, type JeaDefinition } from './node-intent';
import type { AgentInstallation, NodeIntent, ObservedNode } from './node-plan';
import type { NodeChannel } from './node-channel';
import type { LogUploadGrant } from './log-upload-grant';
import { checkPrerequisites, describeCheck, describeFailures, type CheckResult, type LicenseObservation } from './prerequisites';

/** This node, or a peer this node's extension covers: `from` is this node's name. */
export type NodeRole = { kind: 'local' } | PeerRole;
export interface PeerRole {
  kind: 'peer';
  peer: string;
  from: string;
  /** Whether this node covered the peer before this run (it may then repair an unreadable record). */
  coveredBefore: boolean;
}

export const LOCAL_NODE: NodeRole = { kind: 'local' };

export interface NodeRequest {
  now: Date;
  /** The record to converge to, given the one the node has; 'remove' removes everything of ours. */
  target: ((current: DesiredRecord) => DesiredRecord) | 'remove';
  /** Who asks, for the history: the owner's consent identity, "disable", ... */
  changedBy: string;
  /** Check prerequisites when the target gives access (install checks always). */
  checkPrerequisites: 'always' | 'when-granting' | 'never';
  /** Set the data folders' rights again even where they exist (install: someone may have made them first). */
  resetFolderRights?: boolean;
  /**
   * The target's grant comes from the extension settings (enable): when it ended on this node
   * before, this node's command is refused (exit 53) instead of converging without it.
   */
  refuseEndedGrant?: boolean;
  /** Grants known to have ended here beyond the node's record: the handler's copy, for this node only. */
  endedGrants?: EndedGrant[];
  /** The time of the update this run completes: the disable just before it ended no grant. */
  updatedAt?: Date;
  /**
   * The channel the settings give each node (by upper-case computer name), with its listen token;
   * undefined: the settings say nothing of a channel, and a node keeps the one its record has.
   */
  channels?: ReadonlyMap<string, { record: NodeChannel; listenToken: string }>;
  /** The settings name the channel without its secrets: each node keeps the one it has for the same grant. */
  keepChannel?: boolean;
  /**
   * The log upload SAS the settings' grant carries (protected settings), for every node; undefined:
   * the settings give none, and the grant they state allows no engineer's collection.
   */
  logUpload?: { record: LogUploadGrant; sas: string };
  /** Protected settings did not come (a public-only re-send): each node keeps the SAS it has for the same grant. */
  keepLogUpload?: boolean;
}

/** What the node showed in its observe batch; the probe is null when it could not be read. */
export interface SeenNode {
  observed: ObservedNode;
  probe: ProbeResult | null;
}

/** What the decision needs read beyond the node itself; nothing is read that it does not need. */
export interface FactsToRead {
  /** The license Azure holds for this Arc resource: the prerequisites apply. */
  license?: { resourceId: string | null };
  /** The package's JEA definition for this computer, and the agent's files: the node converges to a record. */
  installation?: { computerName: string };
}

export interface NodeFacts {
  license?: LicenseObservation;
  jea?: JeaDefinition;
  agent?: AgentInstallation;
}

export type LeaveDecision =
  | { kind: 'leave'; outcome: 'own-extension' | 'other-node'; message: string }
  | { kind: 'leave'; outcome: 'not-eligible'; message: string; checks: CheckResult[] };

export type NodeDecision =
  /**
   * `record` null: nothing of ours stays on the node. `refused`: the target's grant ended on the
   * node before, so the node converges without it.
   */
  | { kind: 'converge'; record: DesiredRecord | null; intent: NodeIntent; refused?: EndedGrant }
  /** The settings carry a grant that ended on this node: the command fails (exit 53), nothing changes. */
  | { kind: 'refuse'; ended: EndedGrant }
  | LeaveDecision
  /** The node could not be read well enough to decide: the command fails with this message. */
  | { kind: 'fail'; message: string };

export function factsToRead(seen: SeenNode, who: NodeRole, request: NodeRequest): FactsToRead {
  const target = targetOf(seen, who, request);
  if (target.kind !== 'record') return {};
  const { probe } = target;
  return {
    ...(target.checkPrerequisites ? { license: { resourceId: probe.arc.resourceId } } : {}),
    installation: { computerName: probe.computerName },
  };
}

export function decideNode(seen: SeenNode, who: NodeRole, request: NodeRequest, facts: NodeFacts): NodeDecision {
  const target = targetOf(seen, who, request);
  if (target.kind === 'remove') {
    // Access that was in force ends with its history line and event, like any other revoke.
    const previous = parseDesiredRecord(seen.observed.files[DESIRED_STATE_FILE] ?? null).record;
    return {
      kind: 'converge',
      record: null,
      intent: buildRemovalIntent({ previous, observed: seen.observed, now: request.now, changedBy: changedBy(who, request) }),
    };
  }
  if (target.kind !== 'record') return target;
  const refused = target.refused ? { refused: target.refused } : {};
  if (target.checkPrerequisites) {
    // A license nobody read is not known to be eligible: the check fails closed.
    const checks = checkPrerequisites(
      target.probe,
      facts.license ?? { kind: 'Unknown', source: 'none', detail: 'the license was not read' },
    );
    if (checks.some((check) => !check.passed)) return { kind: 'leave', outcome: 'not-eligible', message: notEligible(who, checks), checks };
  }
  const intent = buildNodeIntent({
    record: target.record,
    previous: target.previous,
    observed: seen.observed,
    now: request.now,
    changedBy: changedBy(who, request),
    jea: facts.jea,
    agent: facts.agent,
    resetFolderRights: request.resetFolderRights,
    computerName: target.probe.computerName,
    ...(target.channelToken !== undefined ? { channelToken: target.channelToken } : {}),
    ...(target.logUploadSas !== undefined ? { logUploadSas: target.logUploadSas } : {}),
  });
  return { kind: 'converge', record: target.record, intent, ...refused };
}

function changedBy(who: NodeRole, request: NodeRequest): string {
  return who.kind === 'peer' ? `${request.changedBy} (from ${who.from})` : request.changedBy;
}

/** Where the node is headed, before anything beyond the node is read. */
type Target =
  | LeaveDecision
  | { kind: 'fail'; message: string }
  | { kind: 'refuse'; ended: EndedGrant }
  | { kind: 'remove' }
  | {
      kind: 'record';
      record: DesiredRecord;
      previous: DesiredRecord;
      probe: ProbeResult;
      checkPrerequisites: boolean;
      refused?: EndedGrant;
      channelToken?: string;
      logUploadSas?: string;
    };

function targetOf(seen: SeenNode, who: NodeRole, request: NodeRequest): Target {
  const text = seen.observed.files[DESIRED_STATE_FILE] ?? null;
  if (who.kind === 'peer') {
    const owner = leftAlone(text, who);
    if (owner) return owner;
    // A peer is cleaned even when its probe cannot be read; this node is not changed without its probe.
    if (request.target === 'remove') return { kind: 'remove' };
  }
  const { probe } = seen;
  if (!probe)
    return {
      kind: 'fail',
      message: `Could not read ${who.kind === 'peer' ? who.peer : 'this machine'}'s operating system, memory and Arc agent state.`,
    };
  if (request.target === 'remove') return { kind: 'remove' };
  const previous = parseDesiredRecord(text).record;
  const { now } = request;
  // What ended here: the record's list, the owner's local revokes in the history, the handler's
  // copy, and the record's own grant if its expiry passed. The update's own disable ended nothing.
  const known = knownEndedGrants(
    previous,
    seen.observed.files[HISTORY_FILE] ?? null,
    now,
    who.kind === 'local' ? request.endedGrants : undefined,
  );
  const ended = request.updatedAt ? withoutUpdateDisable(known, request.updatedAt) : known;
  // This node's own extension manages it from now on, even if a peer's extension covered it before;
  // a covered peer carries the name of the node that covers it.
  const { managedFrom: _coveredBefore, endedGrants: _listed, ...wanted } = request.target(previous);
  const refused = endedGrantBlocking(wanted.grant, ended, now);
  if (refused && who.kind === 'local' && request.refuseEndedGrant) return { kind: 'refuse', ended: refused };
  // Settings that speak of a channel decide each node's; a node they do not name gets none.
  const given = request.channels?.get(probe.computerName.toUpperCase());
  const stored =
    request.keepChannel && previous.channel && previous.channel.grantId === wanted.grant?.grantId ? previous.channel : undefined;
  const withChannel: DesiredRecord = stored
    ? { ...wanted, channel: stored }
    : request.channels
      ? { ...wanted, ...(given ? { channel: given.record } : { channel: undefined }) }
      : wanted;
  // The grant's log upload SAS, like the channel: given with the grant, or kept for the same grant.
  const keptUpload =
    request.keepLogUpload && previous.logUpload && previous.logUpload.grantId === wanted.grant?.grantId ? previous.logUpload : undefined;
  const givenUpload = request.logUpload && request.logUpload.record.grantId === wanted.grant?.grantId ? request.logUpload : undefined;
  const withUpload: DesiredRecord = keptUpload
    ? { ...withChannel, logUpload: keptUpload }
    : givenUpload
      ? { ...withChannel, logUpload: givenUpload.record }
      : withChannel;
  const kept: DesiredRecord = refused ? { ...withUpload, grant: null } : withUpload;
  const listed = recordEnds(previous, kept, ended, now, changedBy(who, request));
  const record: DesiredRecord = who.kind === 'peer' ? { ...listed, managedFrom: who.from } : listed;
  const granting = grantInForce(record, now) !== undefined;
  const checkPrerequisites = request.checkPrerequisites === 'always' || (request.checkPrerequisites === 'when-granting' && granting);
  return {
    kind: 'record',
    record,
    previous,
    probe,
    checkPrerequisites,
    ...(refused ? { refused } : {}),
    ...(given && record.channel ? { channelToken: given.listenToken } : {}),
    ...(givenUpload && record.logUpload ? { logUploadSas: givenUpload.sas } : {}),
  };
}

/**
 * A peer's own extension always wins, and so does another node that covers it: who manages a peer
 * is read from its desired.json. No record: nobody, so this node may. A record with the mark of a
 * node: that node. A record without the mark: the peer's own extension. An unreadable record is
 * ours to repair only if this node covered the peer before.
 */
function leftAlone(text: string | null, who: PeerRole): LeaveDecision | undefined {
  if (text === null) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return who.coveredBefore ? undefined : ownExtension(who);
  }
  const mark = (value as { managedFrom?: unknown })?.managedFrom;
  if (typeof mark !== 'string' || !mark) return ownExtension(who);
  if (mark.toLowerCase() === who.from.toLowerCase()) return undefined;
  return { kind: 'leave', outcome: 'other-node', message: `covered from ${mark}; left alone by ${who.from}.` };
}

function ownExtension(who: PeerRole): LeaveDecision {
  return { kind: 'leave', outcome: 'own-extension', message: `managed by its own extension; left alone by ${who.from}.` };
}

/** This node fails its command with every failed check; a peer is named with them and the fix. */
function notEligible(who: NodeRole, checks: CheckResult[]): string {
  if (who.kind === 'local') return describeFailures(checks);
  const failed = checks.filter((check) => !check.passed).map((check) => `${check.check}: ${describeCheck(check)}`);
  return `not covered: ${who.peer} does not meet the prerequisites (${failed.join(' ')}) Access there is unchanged; fix that, or deploy the extension on ${who.peer}, whose own checks then apply.`;
}
