/** The peers a handler run works on, and whether anything of ours may be left on each after its run. */
import type { DesiredRecord } from '../../core/desired-record';
import type { ConvergedNode } from '../../core/node-report';
import { mayHoldOurs, planPeers } from '../../core/peer-plan';
import { ALL_RECORDED } from '../../core/pending-audit';
import { clusterProbe, observedNode } from '../support/cluster-node';

const record: DesiredRecord = { enabled: true, retentionDays: 30, grant: null };

describe('the peers a run works on', () => {
  const local = clusterProbe('ARC-NODE-1');
  const modes = (plan: ReturnType<typeof planPeers>) => [
    plan.tasks.map((task) => `${task.name} ${task.state} ${task.mode}`),
    plan.unmanaged.map((node) => node.name),
  ];

  it('covers every peer with installOnPeers, this node excluded', () => {
    expect(modes(planPeers(local, [], 'cover'))).toEqual([['ARC-NODE-2 Up cover', 'ARC-NODE-3 Down cover'], []]);
  });

  it('at disable keeps only the peers covered before, and names the others', () => {
    expect(modes(planPeers(local, ['arc-node-2'], 'keep'))).toEqual([['ARC-NODE-2 Up cover'], ['ARC-NODE-3']]);
  });

  it('without installOnPeers cleans the peers covered before', () => {
    expect(modes(planPeers(local, ['ARC-NODE-3'], 'release'))).toEqual([['ARC-NODE-3 Down release'], ['ARC-NODE-2']]);
  });

  it('cleans a covered peer that left the cluster, in every mode', () => {
    for (const mode of ['cover', 'keep', 'release'] as const) {
      expect(planPeers(local, ['ARC-NODE-9'], mode).tasks).toContainEqual({ name: 'ARC-NODE-9', state: 'Unknown', mode: 'release' });
    }
  });

  it('has no peers outside a cluster', () => {
    expect(planPeers({ ...local, cluster: null }, [], 'cover')).toEqual({ tasks: [], unmanaged: [] });
  });

  it('counts a peer as still holding ours unless it was cleaned, left to others, or never covered', () => {
    const converged = (record: DesiredRecord | null, failed = false): ConvergedNode => ({
      kind: 'converged',
      record,
      probe: null,
      observed: observedNode(),
      steps: [],
      failure: failed
        ? { step: { description: 'x', operation: { op: 'probe' } as never, kind: 'change' as const }, message: 'Failed: x' }
        : null,
      audit: ALL_RECORDED,
    });
    expect(mayHoldOurs(converged(record), false)).toBe(true);
    expect(mayHoldOurs(converged(null), true)).toBe(false);
    expect(mayHoldOurs(converged(null, true), true)).toBe(true);
    expect(mayHoldOurs({ kind: 'down' }, true)).toBe(true);
    expect(mayHoldOurs({ kind: 'not-reached', code: 'NodeUnreachable', detail: 'x' }, false)).toBe(false);
    expect(mayHoldOurs({ kind: 'leave', outcome: 'own-extension', message: 'x' }, true)).toBe(false);
    expect(mayHoldOurs({ kind: 'leave', outcome: 'not-eligible', message: 'x', checks: [] }, true)).toBe(true);
    expect(mayHoldOurs({ kind: 'batch-failed', message: 'x' }, false)).toBe(true);
  });
});
