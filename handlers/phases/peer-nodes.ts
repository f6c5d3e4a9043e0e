/**
 * The other nodes of this node's failover cluster. Each node is its own Arc machine and normally
 * runs its own extension; with `cluster.installOnPeers` this node's extension also installs the
 * agent, JEA and tasks on the peers it can reach and applies the same access there ("covers"
 * them), marking their desired-state record with its own name. A peer's own extension always
 * wins: a record without that mark is never touched. A peer that is down, refuses us, or is not
 * eligible is named with the fix, never a failure of this node's command.
 */
import { ExitCode, HandlerError, type ErrorDetail } from '../../extension/errors';
import { parseDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import { formatUtc } from '../../core/desired-state';
import { DESIRED_STATE_FILE, GROUPS, HISTORY_FILE } from '../../core/node-layout';
import { buildNodeIntent, grantInForce, type JeaDefinition } from '../../core/node-intent';
import type { AgentInstallation, NodeIntent, ObservedNode } from '../../core/node-plan';
import { checkPrerequisites } from '../../core/prerequisites';
import type { ClusterNodeState, ProbeResult } from '../../windows/operations';
import { isHostBatchError } from '../../windows/port';
import type { NodeAdapters } from '../compose';
import { resolveLicense } from '../license/license-source';
import { convergeNode, isNodeNotReachable } from './converge-node';
import { removal, withoutLocallyRevokedGrant } from './node-access';
import { requirePrerequisites } from './prerequisites';

export interface PeerNode {
  name: string;
  state: ClusterNodeState;
}

/** What to do on a peer: 'cover' converges it to the target; 'release' removes everything of ours. */
type PeerTask = PeerNode & { mode: 'cover' | 'release' };

export interface ClusterRequest {
  phase: string;
  now: Date;
  /**
   * 'cover' (installOnPeers): every peer converges to `target`. 'keep' (disable): only the peers
   * covered before do. 'release': the peers covered before are cleaned. Covered peers that left the
   * cluster are cleaned in every mode; the other peers are reported as their own extension's.
   */
  mode: 'cover' | 'keep' | 'release';
  target: (current: DesiredRecord) => DesiredRecord;
  changedBy: string;
  checkPrerequisites: 'always' | 'when-granting' | 'never';
  jea: (computerName: string) => Promise<JeaDefinition>;
  jeaFilePaths: string[];
  agent: () => Promise<AgentInstallation>;
}

export interface ClusterReport {
  /** One substatus per peer. */
  substatus: ErrorDetail[];
  /** The peers that may hold files, groups or tasks of ours now: what uninstall must clean. */
  coveredPeers: string[];
  /** Peers not covered or cleaned as asked (warning or error substatus). */
  problems: number;
}

interface PeerRun extends Omit<ClusterRequest, 'mode'> {
  localNode: string;
  previouslyCovered: string[];
}

/**
 * The cluster's peers, after the local node converged (`probe` is its probe): each peer
 * converged or cleaned as the mode says, one at a time (each is a PowerShell remoting session).
 */
export async function convergeCluster(binding: NodeAdapters, probe: ProbeResult | null, coveredBefore: string[], request: ClusterRequest): Promise<ClusterReport> {
  const localNode = probe?.computerName ?? 'this node';
  const covered = new Set(coveredBefore.map((name) => name.toUpperCase()));
  const cluster = peersOf(probe);
  const inCluster = new Set(cluster.map((peer) => peer.name.toUpperCase()));
  const tasks: PeerTask[] = [];
  const others: PeerNode[] = [];
  for (const peer of cluster) {
    const wasCovered = covered.has(peer.name.toUpperCase());
    if (request.mode === 'cover' || (request.mode === 'keep' && wasCovered)) tasks.push({ ...peer, mode: 'cover' });
    else if (wasCovered) tasks.push({ ...peer, mode: 'release' });
    else others.push(peer);
  }
  for (const name of covered) if (!inCluster.has(name)) tasks.push({ name, state: 'Unknown', mode: 'release' });

  const run: PeerRun = { ...request, localNode, previouslyCovered: [...covered] };
  const reports: PeerReport[] = [];
  for (const task of tasks) reports.push(await convergePeer(binding, run, task));
  for (const report of reports) {
    if (report.mayHoldOurs) covered.add(report.name.toUpperCase());
    else covered.delete(report.name.toUpperCase());
  }
  return {
    substatus: [...reports.map((report) => report.substatus), ...unmanagedPeerSubstatus(others, localNode)],
    coveredPeers: [...covered].sort(),
    problems: reports.filter((report) => report.substatus.status !== 'success').length,
  };
}

type PeerOutcome = 'covered' | 'removed' | 'own-extension' | 'other-node' | 'not-reached' | 'not-eligible' | 'failed';

interface PeerReport {
  name: string;
  outcome: PeerOutcome;
  /** Whether files, groups or tasks of ours may be on the peer after this run (uninstall removes them). */
  mayHoldOurs: boolean;
  substatus: ErrorDetail;
}

/** The peers of a probe: every cluster node but this one. */
function peersOf(probe: ProbeResult | null): PeerNode[] {
  const local = probe?.computerName.toLowerCase();
  return (probe?.cluster?.nodes ?? []).filter((node) => node.name.toLowerCase() !== local);
}

/** Without `cluster.installOnPeers`: each peer named, as its own extension's business. */
function unmanagedPeerSubstatus(peers: PeerNode[], localNode: string): ErrorDetail[] {
  return peers.map((peer) => ({
    name: `Node ${peer.name}`,
    status: 'success',
    code: 0,
    message: `cluster node ${peer.state}; not managed from ${localNode}: each node is its own Arc machine, so deploy the extension on ${peer.name} too (or set cluster.installOnPeers to cover it from ${localNode}).`,
  }));
}

/** Why a peer was left alone; thrown from inside the observe step, before any change. */
class PeerLeftAlone extends Error {
  override readonly name = 'PeerLeftAlone';

  constructor(
    readonly outcome: PeerOutcome,
    message: string,
  ) {
    super(message);
  }
}

function isPeerLeftAlone(error: unknown): error is PeerLeftAlone {
  return error instanceof Error && error.name === 'PeerLeftAlone' && typeof (error as Partial<PeerLeftAlone>).outcome === 'string';
}

async function convergePeer(binding: NodeAdapters, request: PeerRun, peer: PeerTask): Promise<PeerReport> {
  const { localNode } = request;
  const wasCovered = request.previouslyCovered.some((name) => name.toLowerCase() === peer.name.toLowerCase());
  const report = (outcome: PeerOutcome, status: ErrorDetail['status'], message: string, mayHoldOurs: boolean): PeerReport => ({
    name: peer.name,
    outcome,
    mayHoldOurs,
    substatus: { name: `Node ${peer.name}`, status, code: status === 'error' ? ExitCode.Failure : 0, message },
  });
  const releasing = peer.mode === 'release';
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
    if (isPeerLeftAlone(error)) {
      const status = error.outcome === 'not-eligible' ? 'warning' : 'success';
      return report(error.outcome, status, error.message, error.outcome === 'not-eligible' && wasCovered);
    }
    if (isNodeNotReachable(error)) {
      return error.code === 'AccessDenied'
        ? notReached(`${peer.name} refused the connection from ${localNode} (${error.message})`, `pushing to a peer as SYSTEM is often denied: deploy the extension on ${peer.name}.`)
        : notReached(`${peer.name} did not answer (${error.message})`, `check that WinRM answers on ${peer.name} and run the command again, or deploy the extension on ${peer.name}.`);
    }
    if (isHostBatchError(error)) return report('failed', 'error', `${error.message}. Run the command again.`, true);
    throw error;
  }
}

async function peerIntent(
  binding: NodeAdapters,
  request: PeerRun,
  peer: PeerTask,
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
  if (peer.mode === 'release') return removal();
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
