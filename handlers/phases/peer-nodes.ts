/**
 * The other nodes of this node's failover cluster. Each node is its own Arc machine and normally
 * runs its own extension; with `cluster.installOnPeers` this node's extension also installs the
 * agent, JEA and tasks on the peers it can reach and applies the same access there ("covers"
 * them), marking their desired-state record with its own name. A peer's own extension always
 * wins: a record without that mark is never touched. A peer that is down, refuses us, or is not
 * eligible is named with the fix, never a failure of this node's command.
 */
import { ExitCode, HandlerError, type ErrorDetail } from '../../extension/errors';
import { parseDesiredRecord, type DesiredRecord } from '../domain/desired-record';
import { formatUtc } from '../domain/desired-state';
import { DESIRED_STATE_FILE, GROUPS, HISTORY_FILE } from '../domain/node-layout';
import { buildNodeIntent, grantInForce, type JeaDefinition } from '../domain/node-intent';
import type { AgentInstallation, NodeIntent, ObservedNode } from '../domain/node-plan';
import { checkPrerequisites } from '../domain/prerequisites';
import type { ClusterNodeState, ProbeResult } from '../host/operations';
import { HostBatchError } from '../host/port';
import type { HostBinding } from '../host/select-host';
import { resolveLicense } from '../license/license-source';
import { convergeNode, NodeNotReachable } from './converge-node';
import { removal, withoutLocallyRevokedGrant } from './node-access';
import { requirePrerequisites } from './prerequisites';

export interface PeerNode {
  name: string;
  state: ClusterNodeState;
}

export interface PeerConvergeRequest {
  phase: string;
  now: Date;
  /** This node's computer name: the mark covered peers carry. */
  localNode: string;
  peers: PeerNode[];
  /** 'cover' converges each peer to `target`; 'release' removes everything from peers covered from here. */
  mode: 'cover' | 'release';
  target: (current: DesiredRecord) => DesiredRecord;
  changedBy: string;
  checkPrerequisites: 'always' | 'when-granting' | 'never';
  /** Peers this node covered before: their record may be unreadable and still be ours. */
  previouslyCovered: string[];
  jea: (computerName: string) => Promise<JeaDefinition>;
  jeaFilePaths: string[];
  agent: () => Promise<AgentInstallation>;
}

export type PeerOutcome = 'covered' | 'removed' | 'own-extension' | 'other-node' | 'not-reached' | 'not-eligible' | 'failed';

export interface PeerReport {
  name: string;
  outcome: PeerOutcome;
  /** Whether files, groups or tasks of ours may be on the peer after this run (uninstall removes them). */
  mayHoldOurs: boolean;
  substatus: ErrorDetail;
}

/** Peers, one at a time: each is its own PowerShell remoting session, and a fleet of nodes is small. */
export async function convergePeers(binding: HostBinding, request: PeerConvergeRequest): Promise<PeerReport[]> {
  const reports: PeerReport[] = [];
  for (const peer of request.peers) reports.push(await convergePeer(binding, request, peer));
  return reports;
}

/** The peers of a probe: every cluster node but this one. */
export function peersOf(probe: ProbeResult | null): PeerNode[] {
  const local = probe?.computerName.toLowerCase();
  return (probe?.cluster?.nodes ?? []).filter((node) => node.name.toLowerCase() !== local);
}

/** Without `cluster.installOnPeers`: each peer named, as its own extension's business. */
export function unmanagedPeerSubstatus(peers: PeerNode[], localNode: string): ErrorDetail[] {
  return peers.map((peer) => ({
    name: `Node ${peer.name}`,
    status: 'success',
    code: 0,
    message: `cluster node ${peer.state}; not managed from ${localNode}: each node is its own Arc machine, so deploy the extension on ${peer.name} too (or set cluster.installOnPeers to cover it from ${localNode}).`,
  }));
}

/** Why a peer was left alone; thrown from inside the observe step, before any change. */
class PeerLeftAlone extends Error {
  constructor(
    readonly outcome: PeerOutcome,
    message: string,
  ) {
    super(message);
  }
}

async function convergePeer(binding: HostBinding, request: PeerConvergeRequest, peer: PeerNode): Promise<PeerReport> {
  const { localNode } = request;
  const wasCovered = request.previouslyCovered.some((name) => name.toLowerCase() === peer.name.toLowerCase());
  const report = (outcome: PeerOutcome, status: ErrorDetail['status'], message: string, mayHoldOurs: boolean): PeerReport => ({
    name: peer.name,
    outcome,
    mayHoldOurs,
    substatus: { name: `Node ${peer.name}`, status, code: status === 'error' ? ExitCode.Failure : 0, message },
  });
  const releasing = request.mode === 'release';
  const notReached = (why: string, fix: string) =>
    report(
      'not-reached',
      'warning',
      releasing
        ? `not cleaned: ${why}. Anything of the extension there stays, and its own tasks still end access at its expiry; ${fix}`
        : `not covered: ${why}. Access there is unchanged; ${fix}`,
      wasCovered,
    );

  if (peer.state === 'Down') {
    return notReached('the node is down (cluster state Down)', `when it is up, run the command again, or deploy the extension on ${peer.name}.`);
  }
  let record: DesiredRecord | null = null;
  try {
    const result = await convergeNode(binding.host, {
      node: peer.name,
      phase: `${request.phase} on ${peer.name}`,
      jeaFilePaths: request.jeaFilePaths,
      intentFor: (observed, probe) => peerIntent(binding, request, peer, wasCovered, observed, probe, (chosen) => (record = chosen)),
    });
    if (result.failure) {
      return report(
        'failed',
        'error',
        `Failed at '${result.failure.step.description}' on ${peer.name}: ${result.failure.message}. Run the command again; the node converges from where it stopped.`,
        true,
      );
    }
    const changes = result.steps.length === 0 ? 'no change needed' : `${result.steps.length} change(s) applied`;
    if (releasing) return report('removed', 'success', `everything of the extension removed (it was covered from ${localNode}); ${changes}.`, false);
    const grant = grantInForce(record!, request.now);
    const state = grant ? `access ${grant.level} until ${formatUtc(grant.expiresAt)}` : 'access off';
    if (grant && result.observed.groups.engineers.members.length === 0) {
      return report('covered', 'warning', `${state}, covered from ${localNode}, but nobody can use it: the group '${GROUPS.engineers}' is empty. Add the support engineers' accounts to it on ${peer.name}; ${changes}.`, true);
    }
    return report('covered', 'success', `${state}, covered from ${localNode}; ${changes}.`, true);
  } catch (error) {
    if (error instanceof PeerLeftAlone) {
      const status = error.outcome === 'not-eligible' ? 'warning' : 'success';
      return report(error.outcome, status, error.message, error.outcome === 'not-eligible' && wasCovered);
    }
    if (error instanceof NodeNotReachable) {
      return error.code === 'AccessDenied'
        ? notReached(`${peer.name} refused the connection from ${localNode} (${error.message})`, `pushing to a peer as SYSTEM is often denied: deploy the extension on ${peer.name}.`)
        : notReached(`${peer.name} did not answer (${error.message})`, `check that WinRM answers on ${peer.name} and run the command again, or deploy the extension on ${peer.name}.`);
    }
    if (error instanceof HostBatchError) return report('failed', 'error', `${error.message}. Run the command again.`, true);
    throw error;
  }
}

async function peerIntent(
  binding: HostBinding,
  request: PeerConvergeRequest,
  peer: PeerNode,
  wasCovered: boolean,
  observed: ObservedNode,
  probe: ProbeResult | null,
  chose: (record: DesiredRecord) => void,
): Promise<NodeIntent> {
  const { localNode } = request;
  const text = observed.files[DESIRED_STATE_FILE] ?? null;
  const owner = ownerOf(text, wasCovered);
  if (owner.kind === 'own-extension') {
    throw new PeerLeftAlone('own-extension', `managed by its own extension; left alone by ${localNode}.`);
  }
  if (owner.kind === 'other-node' && owner.node.toLowerCase() !== localNode.toLowerCase()) {
    throw new PeerLeftAlone('other-node', `covered from ${owner.node}; left alone by ${localNode}.`);
  }
  if (request.mode === 'release') return removal();
  if (!probe) throw new HandlerError(ExitCode.Failure, `Could not read ${peer.name}'s operating system, memory and Arc agent state.`);
  const current = parseDesiredRecord(text).record;
  const record: DesiredRecord = { ...withoutLocallyRevokedGrant(request.target(current), observed.files[HISTORY_FILE] ?? null), managedFrom: localNode };
  const granting = grantInForce(record, request.now) !== undefined;
  if (request.checkPrerequisites === 'always' || (request.checkPrerequisites === 'when-granting' && granting)) {
    // The license of the peer's own Arc resource, as Azure tells this node; the control plane's
    // observation in the settings is about this node only.
    const license = await resolveLicense(binding.license, probe.arc.resourceId, undefined);
    try {
      requirePrerequisites({ probe, results: checkPrerequisites(probe, license) });
    } catch (error) {
      const failed = (error as HandlerError).details?.filter((detail) => detail.status === 'error').map((detail) => `${detail.name.replace(/^Prerequisite: /, '')}: ${detail.message}`);
      throw new PeerLeftAlone(
        'not-eligible',
        `not covered: ${peer.name} does not meet the prerequisites (${(failed ?? [(error as Error).message]).join(' ')}) Access there is unchanged; fix that, or deploy the extension on ${peer.name}, whose own checks then apply.`,
      );
    }
  }
  chose(record);
  return buildNodeIntent({
    record,
    previous: current,
    observed,
    now: request.now,
    changedBy: `${request.changedBy} (from ${localNode})`,
    jea: await request.jea(probe.computerName),
    agent: await request.agent(),
  });
}

type Owner = { kind: 'nobody' } | { kind: 'own-extension' } | { kind: 'other-node'; node: string };

/**
 * Who manages a peer, from its desired.json: nobody (no record), a node of the cluster (the mark),
 * or its own extension (a record without the mark). An unreadable record is ours to repair only if
 * this node covered the peer before.
 */
function ownerOf(text: string | null, wasCovered: boolean): Owner {
  if (text === null) return { kind: 'nobody' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return wasCovered ? { kind: 'nobody' } : { kind: 'own-extension' };
  }
  const mark = (value as { managedFrom?: unknown })?.managedFrom;
  return typeof mark === 'string' && mark ? { kind: 'other-node', node: mark } : { kind: 'own-extension' };
}
