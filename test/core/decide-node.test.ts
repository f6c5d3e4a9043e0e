/**
 * decideNode for this node and for a cluster peer: converge (to which record, after reading what),
 * leave the node as it is and say why, or fail the command.
 */
import {
  decideNode,
  factsToRead,
  LOCAL_NODE,
  type NodeDecision,
  type NodeFacts,
  type NodeRequest,
  type NodeRole,
  type PeerRole,
  type SeenNode,
} from '../../core/decide-node';
import { parseDesiredRecord, serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import { DESIRED_STATE_FILE, HISTORY_FILE } from '../../core/node-layout';
import { buildRemovalIntent } from '../../core/node-intent';
import type { LicenseObservation } from '../../core/prerequisites';
import type { ProbeResult } from '../../windows/operations';
import { clusterProbe, GIB, observedNode } from '../support/cluster-node';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant();
const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };
const eligible: LicenseObservation = { kind: 'PayAsYouGo', source: 'azure', detail: 'productProfile WindowsServer Enabled' };
const jea = { files: [], sessionConfiguration: "@{ SchemaVersion = '2.0.0.0' }" };
const agent = { version: '1.0.0', folders: [], files: [] };
const facts: NodeFacts = { license: eligible, jea, agent };

const seen = (files: Record<string, string | null> = {}, probeResult: ProbeResult | null = clusterProbe('ARC-NODE-1')): SeenNode => ({
  observed: observedNode(files),
  probe: probeResult,
});

const grantRequest: NodeRequest = {
  now: NOW,
  target: () => granted,
  changedBy: 'owner@contoso.example',
  checkPrerequisites: 'when-granting',
};
const peer = (coveredBefore = false): PeerRole => ({ kind: 'peer', peer: 'ARC-NODE-2', from: 'ARC-NODE-1', coveredBefore });
const peerSeen = (files: Record<string, string | null> = {}, memoryBytes?: number) => seen(files, clusterProbe('ARC-NODE-2', memoryBytes));
const recordOf = (decision: NodeDecision) => (decision.kind === 'converge' ? decision.record : `no record: ${decision.kind}`);
const historyOf = (decision: NodeDecision) =>
  decision.kind === 'converge' ? decision.intent.audit.map((record) => JSON.parse(record.historyLine!)) : [];

describe('decideNode on this node', () => {
  it('converges to the record the settings ask for, with the history line of the grant, after reading the license and the package', () => {
    expect(factsToRead(seen(), LOCAL_NODE, grantRequest)).toEqual({
      license: { resourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.HybridCompute/machines/ARC-NODE-1' },
      installation: { computerName: 'ARC-NODE-1' },
    });
    const decision = decideNode(seen(), LOCAL_NODE, grantRequest, facts);
    expect(recordOf(decision)).toEqual(granted);
    expect(decision).toMatchObject({
      kind: 'converge',
      intent: { present: true, grant, jea, agent, desiredRecord: serializeDesiredRecord(granted) },
    });
    expect(historyOf(decision)).toEqual([
      expect.objectContaining({ change: 'granted', by: 'owner@contoso.example', grantId: grant.grantId }),
    ]);
  });

  it('reads no license to turn access off, and converges without the checks', () => {
    const revoke: NodeRequest = { ...grantRequest, target: () => ({ ...granted, grant: null }) };
    expect(factsToRead(seen(), LOCAL_NODE, revoke)).toEqual({ installation: { computerName: 'ARC-NODE-1' } });
    // A machine that fails every check can still be revoked.
    const ineligible = seen({}, clusterProbe('ARC-NODE-1', 2 * GIB));
    expect(decideNode(ineligible, LOCAL_NODE, revoke, { jea, agent })).toMatchObject({ kind: 'converge', record: { grant: null } });
  });

  it('takes over a node a peer covered before: the mark of the other node is dropped', () => {
    const coveredRecord = serializeDesiredRecord({ ...granted, managedFrom: 'ARC-NODE-2' });
    const install: NodeRequest = { ...grantRequest, target: (current) => current, checkPrerequisites: 'always' };
    const decision = decideNode(seen({ [DESIRED_STATE_FILE]: coveredRecord }), LOCAL_NODE, install, facts);
    expect(recordOf(decision)).toEqual(granted);
  });

  it("refuses settings that carry a grant the owner revoked on the node, and keeps it off when the node's own record carries it", () => {
    const history = `${JSON.stringify({ at: '2026-11-24T21:00:00Z', change: 'revoked', by: 'CONTOSO\\admin (local)', grantId: grant.grantId })}\n`;
    const ended = { grantId: grant.grantId, endedAt: new Date('2026-11-24T21:00:00Z'), reason: 'revoked-locally', by: 'CONTOSO\\admin' };
    const later = { ...grantRequest, now: new Date('2026-11-24T22:00:00Z') };
    expect(decideNode(seen({ [HISTORY_FILE]: history }), LOCAL_NODE, { ...later, refuseEndedGrant: true }, facts)).toEqual({
      kind: 'refuse',
      ended,
    });
    expect(factsToRead(seen({ [HISTORY_FILE]: history }), LOCAL_NODE, { ...later, refuseEndedGrant: true })).toEqual({});
    // Install and disable converge the node's own record: the grant stays off, and the record keeps why.
    const decision = decideNode(
      seen({ [HISTORY_FILE]: history, [DESIRED_STATE_FILE]: serializeDesiredRecord(granted) }),
      LOCAL_NODE,
      { ...later, target: (current) => current },
      facts,
    );
    expect(decision).toMatchObject({ kind: 'converge', refused: ended, record: { ...granted, grant: null, endedGrants: [ended] } });
    expect(factsToRead(seen({ [HISTORY_FILE]: history }), LOCAL_NODE, later).license).toBeUndefined();
  });

  it('leaves an ineligible node as it is, with every failed check for exit 51', () => {
    const decision = decideNode(seen({}, clusterProbe('ARC-NODE-1', 2 * GIB)), LOCAL_NODE, grantRequest, facts);
    expect(decision).toMatchObject({
      kind: 'leave',
      outcome: 'not-eligible',
      message: expect.stringMatching(/^Memory check failed: found 2\.00 GiB installed; requires at least 4\.00 GiB installed\. Fix: /),
    });
    expect(
      decision.kind === 'leave' &&
        decision.outcome === 'not-eligible' &&
        decision.checks.filter((check) => !check.passed).map((check) => check.check),
    ).toEqual(['Memory']);
  });

  it('fails closed when the license was not read: the license check fails', () => {
    expect(decideNode(seen(), LOCAL_NODE, grantRequest, { jea, agent })).toMatchObject({
      kind: 'leave',
      outcome: 'not-eligible',
      message: expect.stringContaining('License check failed: found Unknown'),
    });
  });

  it('removes everything of ours at uninstall, reading nothing more', () => {
    const remove: NodeRequest = { ...grantRequest, target: 'remove', checkPrerequisites: 'never' };
    expect(factsToRead(seen({ [DESIRED_STATE_FILE]: serializeDesiredRecord(granted) }), LOCAL_NODE, remove)).toEqual({});
    const node = seen({ [DESIRED_STATE_FILE]: serializeDesiredRecord(granted) });
    const intent = buildRemovalIntent({ previous: granted, observed: node.observed, now: remove.now, changedBy: remove.changedBy });
    expect(decideNode(node, LOCAL_NODE, remove, {})).toEqual({ kind: 'converge', record: null, intent });
  });

  it('fails the command when the probe could not be read, even to remove', () => {
    const message = "Could not read this machine's operating system, memory and Arc agent state.";
    expect(decideNode(seen({}, null), LOCAL_NODE, grantRequest, facts)).toEqual({ kind: 'fail', message });
    expect(decideNode(seen({}, null), LOCAL_NODE, { ...grantRequest, target: 'remove' }, {})).toEqual({ kind: 'fail', message });
    expect(factsToRead(seen({}, null), LOCAL_NODE, grantRequest)).toEqual({});
  });
});

describe('decideNode on a cluster peer', () => {
  const cover = (files: Record<string, string | null>, who: NodeRole = peer(), memoryBytes?: number) =>
    decideNode(peerSeen(files, memoryBytes), who, grantRequest, facts);

  it('covers a peer nothing manages: the record carries the mark of this node, the history says from where', () => {
    expect(factsToRead(peerSeen(), peer(), grantRequest)).toMatchObject({
      license: { resourceId: expect.stringMatching(/ARC-NODE-2$/) },
      installation: { computerName: 'ARC-NODE-2' },
    });
    const decision = cover({});
    expect(recordOf(decision)).toEqual({ ...granted, managedFrom: 'ARC-NODE-1' });
    expect(historyOf(decision)).toEqual([expect.objectContaining({ change: 'granted', by: 'owner@contoso.example (from ARC-NODE-1)' })]);
    // The peer's agent reads the mark back, and keeps it.
    expect(decision.kind === 'converge' && parseDesiredRecord(decision.intent.desiredRecord).record).toEqual({
      ...granted,
      managedFrom: 'ARC-NODE-1',
    });
  });

  it('keeps covering a peer marked with this node, whatever the case of the name', () => {
    const marked = serializeDesiredRecord({ ...granted, grant: null, managedFrom: 'arc-node-1' });
    expect(recordOf(cover({ [DESIRED_STATE_FILE]: marked }))).toEqual({ ...granted, managedFrom: 'ARC-NODE-1' });
  });

  it('leaves a peer managed by its own extension (a record without the mark) alone, and reads nothing for it', () => {
    const own = { [DESIRED_STATE_FILE]: serializeDesiredRecord(granted) };
    expect(factsToRead(peerSeen(own), peer(true), grantRequest)).toEqual({});
    expect(cover(own, peer(true))).toEqual({
      kind: 'leave',
      outcome: 'own-extension',
      message: 'managed by its own extension; left alone by ARC-NODE-1.',
    });
  });

  it('leaves a peer another node covers alone', () => {
    const other = { [DESIRED_STATE_FILE]: serializeDesiredRecord({ ...granted, managedFrom: 'ARC-NODE-3' }) };
    expect(cover(other)).toEqual({ kind: 'leave', outcome: 'other-node', message: 'covered from ARC-NODE-3; left alone by ARC-NODE-1.' });
  });

  it('repairs an unreadable record only on a peer this node covered before', () => {
    const corrupt = { [DESIRED_STATE_FILE]: 'not json' };
    expect(cover(corrupt, peer(false))).toMatchObject({ kind: 'leave', outcome: 'own-extension' });
    expect(recordOf(cover(corrupt, peer(true)))).toEqual({ ...granted, managedFrom: 'ARC-NODE-1' });
  });

  it('gives no access on an ineligible peer and names the failed check and the fix', () => {
    const decision = cover({}, peer(), 2 * GIB);
    expect(decision).toMatchObject({ kind: 'leave', outcome: 'not-eligible' });
    expect(decision.kind === 'leave' && decision.message).toMatch(
      /^not covered: ARC-NODE-2 does not meet the prerequisites \(Memory: Failed: found 2\.00 GiB installed; requires at least 4\.00 GiB installed\. Fix: .*\.\) Access there is unchanged; fix that, or deploy the extension on ARC-NODE-2, whose own checks then apply\.$/,
    );
  });

  it('cleans a peer it covered, even when its probe cannot be read', () => {
    const marked = { [DESIRED_STATE_FILE]: serializeDesiredRecord({ ...granted, managedFrom: 'ARC-NODE-1' }) };
    const release: NodeRequest = { ...grantRequest, target: 'remove', checkPrerequisites: 'never' };
    const node = seen(marked, null);
    const intent = buildRemovalIntent({
      previous: { ...granted, managedFrom: 'ARC-NODE-1' },
      observed: node.observed,
      now: release.now,
      changedBy: `${release.changedBy} (from ARC-NODE-1)`,
    });
    expect(decideNode(node, peer(true), release, {})).toEqual({ kind: 'converge', record: null, intent });
  });

  it('does not clean a covered peer its own extension has taken over', () => {
    const own = { [DESIRED_STATE_FILE]: serializeDesiredRecord(granted) };
    expect(decideNode(peerSeen(own), peer(true), { ...grantRequest, target: 'remove' }, {})).toMatchObject({
      kind: 'leave',
      outcome: 'own-extension',
    });
  });

  it("fails the command when a peer's probe could not be read for covering it", () => {
    expect(decideNode(seen({}, null), peer(), grantRequest, facts)).toEqual({
      kind: 'fail',
      message: "Could not read ARC-NODE-2's operating system, memory and Arc agent state.",
    });
  });
});
