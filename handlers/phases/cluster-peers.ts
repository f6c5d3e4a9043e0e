/**
 * The other nodes of this node's failover cluster. Each node is its own Arc machine and normally
 * runs its own extension; with `cluster.installOnPeers` this node's extension also installs the
 * agent, JEA and tasks on the peers it can reach and applies the same access there ("covers"
 * them), marking their desired-state record with its own name. A peer's own extension always
 * wins: a record without that mark is never touched. A peer that is down, refuses us, or is not
 * eligible is named with the fix, never a failure of this node's command.
 */
import type { ErrorDetail } from '../../extension/errors';
import type { PeerRole } from '../../core/decide-node';
import { nodeSubstatus, type NodeRun } from '../../core/node-report';
import { mayHoldOurs, planPeers, type ClusterMode, type PeerNode, type PeerTask } from '../../core/peer-plan';
import type { ProbeResult } from '../../windows/operations';
import type { NodeAdapters } from '../compose';
import { convergeNode, type HandlerNodeRequest } from './converge-node';

export interface ClusterRequest extends Omit<HandlerNodeRequest, 'node' | 'target' | 'observedLicense'> {
  /** See ClusterMode: which peers converge to `target`, and which are cleaned. */
  mode: ClusterMode;
  target: Exclude<HandlerNodeRequest['target'], 'remove'>;
}

export interface ClusterReport {
  /** One substatus per peer. */
  substatus: ErrorDetail[];
  /** The peers that may hold files, groups or tasks of ours now: what uninstall must clean. */
  coveredPeers: string[];
  /** Peers not covered or cleaned as asked (warning or error substatus). */
  problems: number;
  /** Peers where an audit record waits to be written (in their pending audit file). */
  auditWaiting: string[];
}

/**
 * The cluster's peers, after the local node converged (`probe` is its probe): each peer
 * converged or cleaned as the mode says, one at a time (each is a PowerShell remoting session).
 */
export async function convergeCluster(
  binding: NodeAdapters,
  probe: ProbeResult | null,
  coveredBefore: string[],
  request: ClusterRequest,
): Promise<ClusterReport> {
  const localNode = probe?.computerName ?? 'this node';
  const covered = new Set(coveredBefore.map((name) => name.toUpperCase()));
  const { tasks, unmanaged } = planPeers(probe, coveredBefore, request.mode);
  const reports: PeerReport[] = [];
  for (const task of tasks)
    reports.push(
      await convergePeer(binding, request, task, {
        kind: 'peer',
        peer: task.name,
        from: localNode,
        coveredBefore: covered.has(task.name.toUpperCase()),
      }),
    );
  for (const report of reports) {
    if (report.mayHoldOurs) covered.add(report.name.toUpperCase());
    else covered.delete(report.name.toUpperCase());
  }
  return {
    substatus: [...reports.map((report) => report.substatus), ...unmanagedPeerSubstatus(unmanaged, localNode)],
    coveredPeers: [...covered].sort(),
    problems: reports.filter((report) => report.substatus.status !== 'success').length,
    auditWaiting: reports.filter((report) => report.auditWaiting).map((report) => report.name),
  };
}

interface PeerReport {
  name: string;
  /** Whether files, groups or tasks of ours may be on the peer after this run (uninstall removes them). */
  mayHoldOurs: boolean;
  auditWaiting: boolean;
  substatus: ErrorDetail;
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

async function convergePeer(binding: NodeAdapters, request: ClusterRequest, peer: PeerTask, who: PeerRole): Promise<PeerReport> {
  const removing = peer.mode === 'release';
  const run: NodeRun = peer.state === 'Down' ? { kind: 'down' } : await runOnPeer(binding, request, who, removing);
  return {
    name: peer.name,
    mayHoldOurs: mayHoldOurs(run, who.coveredBefore),
    auditWaiting: run.kind === 'converged' && run.audit.keptIn !== null,
    substatus: nodeSubstatus(run, { name: peer.name, who, removing, now: request.now }),
  };
}

/** A host batch that failed as a whole is that peer's failure, not the command's. */
async function runOnPeer(binding: NodeAdapters, request: ClusterRequest, who: PeerRole, removing: boolean): Promise<NodeRun> {
  const { mode: _mode, ...common } = request;
  try {
    // No observedLicense: the license is the peer's own Arc resource's, as Azure tells this node;
    // the control plane's observation in the settings is about this node only.
    return await convergeNode(binding, who, {
      ...common,
      node: who.peer,
      phase: `${request.phase} on ${who.peer}`,
      target: removing ? 'remove' : request.target,
    });
  } catch (error) {
    if ((error as Error | undefined)?.name === 'HostBatchError') return { kind: 'batch-failed', message: (error as Error).message };
    throw error;
  }
}
