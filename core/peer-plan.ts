/**
 * Which peers of this node's failover cluster the handler works on, and how: from this node's
 * probe, the peers it covered before, and the command's mode. Then, after each peer's run,
 * whether anything of ours may be left there, which is what a later uninstall must clean.
 */
import type { ClusterNodeState, ProbeResult } from '../windows/operations';
import type { NodeRun } from './node-report';

export interface PeerNode {
  name: string;
  state: ClusterNodeState;
}

/** What to do on a peer: 'cover' converges it to the target; 'release' removes everything of ours. */
export type PeerTask = PeerNode & { mode: 'cover' | 'release' };

/**
 * 'cover' (installOnPeers): every peer converges to the target. 'keep' (disable): only the peers
 * covered before do. 'release': the peers covered before are cleaned. Covered peers that left the
 * cluster are cleaned in every mode; the other peers are only named, as their own extension's.
 */
export type ClusterMode = 'cover' | 'keep' | 'release';

export function planPeers(
  probe: ProbeResult | null,
  coveredBefore: string[],
  mode: ClusterMode,
): { tasks: PeerTask[]; unmanaged: PeerNode[] } {
  const covered = new Set(coveredBefore.map((name) => name.toUpperCase()));
  const cluster = peersOf(probe);
  const inCluster = new Set(cluster.map((peer) => peer.name.toUpperCase()));
  const tasks: PeerTask[] = [];
  const unmanaged: PeerNode[] = [];
  for (const peer of cluster) {
    const wasCovered = covered.has(peer.name.toUpperCase());
    if (mode === 'cover' || (mode === 'keep' && wasCovered)) tasks.push({ ...peer, mode: 'cover' });
    else if (wasCovered) tasks.push({ ...peer, mode: 'release' });
    else unmanaged.push(peer);
  }
  for (const name of covered) if (!inCluster.has(name)) tasks.push({ name, state: 'Unknown', mode: 'release' });
  return { tasks, unmanaged };
}

/** Whether files, groups or tasks of ours may be on the peer after its run. */
export function mayHoldOurs(run: NodeRun, coveredBefore: boolean): boolean {
  switch (run.kind) {
    case 'down':
    case 'not-reached':
      return coveredBefore;
    case 'leave':
      return run.outcome === 'not-eligible' && coveredBefore;
    case 'batch-failed':
      return true;
    case 'converged':
      // A record waiting to be written again is kept in the peer's data folder: the next run writes it.
      return run.failure !== null || run.record !== null || run.audit.keptIn !== null;
  }
}

/** The peers of a probe: every cluster node but this one. */
function peersOf(probe: ProbeResult | null): PeerNode[] {
  const local = probe?.computerName.toLowerCase();
  return (probe?.cluster?.nodes ?? []).filter((node) => node.name.toLowerCase() !== local);
}
