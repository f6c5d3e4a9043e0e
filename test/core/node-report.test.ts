/** The substatus line of each node a handler run touched, as the owner reads it in the status. */
import { LOCAL_NODE, type NodeRole, type PeerRole } from '../../core/decide-node';
import type { DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import { nodeSubstatus, prerequisiteSubstatus, type ConvergedNode, type NodeRun } from '../../core/node-report';
import { ALL_RECORDED } from '../../core/pending-audit';
import { serializeChannelStatus, type ChannelStatus } from '../../core/channel-status';
import type { NodeChannel } from '../../core/node-channel';
import { CHANNEL_STATUS_FILE, PENDING_AUDIT_FILE } from '../../core/node-layout';
import { checkPrerequisites } from '../../core/prerequisites';
import { clusterProbe, GIB, observedNode } from '../support/cluster-node';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant();
const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };
const peer = (coveredBefore = false): PeerRole => ({ kind: 'peer', peer: 'ARC-NODE-2', from: 'ARC-NODE-1', coveredBefore });

describe("each node's status line", () => {
  const line = (run: NodeRun, who: NodeRole = peer(), removing = false) =>
    nodeSubstatus(run, { name: who.kind === 'peer' ? who.peer : 'ARC-NODE-1', who, removing, now: NOW });
  const converged = (record: DesiredRecord | null, steps = 3, engineers = ['CONTOSO\\eng1']): ConvergedNode => ({
    kind: 'converged',
    record,
    probe: null,
    observed: observedNode({}, engineers),
    steps: Array(steps).fill({ description: 'a step', operation: { op: 'probe' }, kind: 'change' }),
    failure: null,
    audit: ALL_RECORDED,
  });

  it('says the access in force and the changes, for this node and for a covered peer', () => {
    expect(line(converged(granted), LOCAL_NODE)).toEqual({
      name: 'Node ARC-NODE-1',
      status: 'success',
      code: 0,
      message: 'access Diagnostics until 2026-11-25T04:00:00Z; 3 change(s) applied.',
    });
    expect(line(converged({ ...granted, grant: null }, 0))).toEqual({
      name: 'Node ARC-NODE-2',
      status: 'success',
      code: 0,
      message: 'access off, covered from ARC-NODE-1; no change needed.',
    });
    expect(line(converged(null), LOCAL_NODE, true).message).toBe('everything of the extension removed; 3 change(s) applied.');
    expect(line(converged(null), peer(true), true).message).toBe(
      'everything of the extension removed (it was covered from ARC-NODE-1); 3 change(s) applied.',
    );
  });

  it('warns when access is given but nobody is in the engineers group', () => {
    expect(line(converged(granted, 3, []))).toMatchObject({
      status: 'warning',
      message: expect.stringMatching(
        /^access Diagnostics until .*, covered from ARC-NODE-1, but nobody can use it: .* on ARC-NODE-2; 3 change\(s\) applied\.$/,
      ),
    });
  });

  it('warns, never succeeds, when an audit record could not be written: what, why, and where it waits', () => {
    const waiting = {
      id: 'a-1',
      historyLine: null,
      event: { eventId: 1003, level: 'Warning' as const, message: 'm' },
      why: { event: 'Failed: the event log is stopped' },
    };
    const audit = { unrecorded: [waiting], keptIn: PENDING_AUDIT_FILE, problem: null };
    expect(line({ ...converged({ ...granted, grant: null }), audit }, LOCAL_NODE)).toEqual({
      name: 'Node ARC-NODE-1',
      status: 'warning',
      code: 0,
      message: `access off; 3 change(s) applied. Audit not recorded: event 1003 of audit a-1 (Failed: the event log is stopped). Kept in ${PENDING_AUDIT_FILE}; the next run on the node writes it.`,
    });
    expect(line({ ...converged(null), audit }, peer(true), true)).toMatchObject({
      status: 'warning',
      message: expect.stringMatching(
        new RegExp(
          `^everything of the extension removed but .*pending-audit\\.json \\(it was covered from ARC-NODE-1\\); 3 change\\(s\\) applied\\. Audit not recorded: `,
        ),
      ),
    });
  });

  describe('with a channel in force', () => {
    const channel: NodeChannel = {
      grantId: grant.grantId,
      machine: 'ARC-NODE-1',
      relayNamespace: 'contoso-support.servicebus.windows.net',
      hybridConnection: 'arc-node-1',
      ticketPublicKey: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
      listenTokenDigest: 'a'.repeat(64),
      listenTokenExpiresAt: grant.expiresAt,
    };
    const withChannel: DesiredRecord = { ...granted, channel };
    const status = (fields: Partial<ChannelStatus>): ChannelStatus => ({
      connection: 'connected',
      detail: 'connected since 2026-11-24T19:55:00.000Z',
      httpStatus: null,
      lastError: null,
      grantId: grant.grantId,
      hybridConnection: 'arc-node-1',
      openSessions: 0,
      updatedAt: '2026-11-24T19:58:00.000Z',
      processId: 4321,
      ...fields,
    });
    const reported = (record: DesiredRecord, file: string | null, engineers = ['CONTOSO\\eng1']): ConvergedNode => ({
      ...converged(record, 0, engineers),
      observed: observedNode({ [CHANNEL_STATUS_FILE]: file }, engineers),
    });

    it('says how the channel is connected, with its open sessions', () => {
      expect(line(reported(withChannel, serializeChannelStatus(status({ openSessions: 2 }))), LOCAL_NODE)).toEqual({
        name: 'Node ARC-NODE-1',
        status: 'success',
        code: 0,
        message:
          'access Diagnostics until 2026-11-25T04:00:00Z; channel connected since 2026-11-24T19:55:00.000Z (2 sessions open); no change needed.',
      });
      expect(line(reported(withChannel, serializeChannelStatus(status({}))))).toMatchObject({
        status: 'success',
        message:
          'access Diagnostics until 2026-11-25T04:00:00Z, covered from ARC-NODE-1; channel connected since 2026-11-24T19:55:00.000Z; no change needed.',
      });
    });

    it("warns when the relay refuses the node's listener, with the relay's code", () => {
      const refused = status({
        connection: 'refused',
        detail: 'refused (404 no-endpoint): the hybrid connection arc-node-1 does not exist; next attempt at 2026-11-24T20:01:00.000Z',
        httpStatus: 404,
        lastError: 'the hybrid connection arc-node-1 does not exist',
      });
      expect(line(reported(withChannel, serializeChannelStatus(refused)), LOCAL_NODE)).toMatchObject({
        status: 'warning',
        code: 0,
        message:
          'access Diagnostics until 2026-11-25T04:00:00Z; channel refused (404 no-endpoint): the hybrid connection arc-node-1 does not exist; next attempt at 2026-11-24T20:01:00.000Z; no change needed.',
      });
    });

    it('never takes a status of another grant, or none, as the connection', () => {
      const other = serializeChannelStatus(status({ grantId: '9a8b7c6d-5d4a-4e7b-9c2d-1a2b3c4d5e6f', openSessions: 1 }));
      const stale = line(reported(withChannel, other), LOCAL_NODE);
      expect(stale).toMatchObject({ status: 'success' });
      expect(stale.message).toBe(
        `access Diagnostics until 2026-11-25T04:00:00Z; channel not reported for this grant yet: ${CHANNEL_STATUS_FILE} is stale, from grant 9a8b7c6d-5d4a-4e7b-9c2d-1a2b3c4d5e6f (written 2026-11-24T19:58:00.000Z); no change needed.`,
      );
      expect(line(reported(withChannel, null), LOCAL_NODE).message).toBe(
        'access Diagnostics until 2026-11-25T04:00:00Z; channel not reported yet: the channel agent has written no readable status on this node; no change needed.',
      );
    });

    it('says nothing of the channel without one in force, whatever the file says', () => {
      const file = serializeChannelStatus(status({}));
      expect(line(reported(granted, file), LOCAL_NODE).message).toBe('access Diagnostics until 2026-11-25T04:00:00Z; no change needed.');
      expect(line(reported({ ...withChannel, enabled: false }, file), LOCAL_NODE).message).toBe('access off; no change needed.');
    });

    it('says the channel is refused on a domain controller, which has no local accounts', () => {
      const run = reported(withChannel, null);
      const onController: ConvergedNode = { ...run, observed: { ...run.observed, channelAccounts: 'none-possible' } };
      expect(line(onController, LOCAL_NODE)).toMatchObject({ status: 'warning' });
      expect(line(onController, LOCAL_NODE).message).toMatch(
        /channel refused: ARC-NODE-1 is a domain controller, which has no local accounts/,
      );
      expect(line(run, LOCAL_NODE).message).not.toMatch(/domain controller/);
    });

    it("does not ask for the Engineers group: engineers come in over the channel as the grant's account", () => {
      expect(line(reported(withChannel, serializeChannelStatus(status({})), []), LOCAL_NODE)).toMatchObject({ status: 'success' });
    });
  });

  it('names a failed step as an error of that node', () => {
    const failed = {
      ...converged(granted),
      failure: {
        step: { description: 'give diagnostics access', operation: { op: 'probe' } as never, kind: 'change' as const },
        message: 'Failed: no',
      },
    };
    expect(line(failed, LOCAL_NODE)).toMatchObject({
      status: 'error',
      code: 1,
      message: "Failed at 'give diagnostics access': Failed: no. Run enable again; the node converges from where it stopped.",
    });
    expect(line(failed)).toMatchObject({
      status: 'error',
      code: 1,
      message:
        "Failed at 'give diagnostics access' on ARC-NODE-2: Failed: no. Run the command again; the node converges from where it stopped.",
    });
  });

  it('names a peer that is down, or that left the cluster, with the fix', () => {
    expect(line({ kind: 'down' })).toMatchObject({
      status: 'warning',
      message:
        'not covered: the node is down (cluster state Down). Access there is unchanged; when it is up, run the command again, or deploy the extension on ARC-NODE-2.',
    });
    expect(line({ kind: 'not-reached', code: 'NodeUnreachable', detail: 'WinRM did not answer' }, peer(true), true)).toMatchObject({
      status: 'warning',
      message:
        'not cleaned: ARC-NODE-2 did not answer (ARC-NODE-2: unreachable (WinRM did not answer)). Anything of the extension there stays, and its own tasks still end access at its expiry; check that WinRM answers on ARC-NODE-2 and run the command again, or deploy the extension on ARC-NODE-2.',
    });
    expect(line({ kind: 'not-reached', code: 'AccessDenied', detail: 'denied' }).message).toBe(
      'not covered: ARC-NODE-2 refused the connection from ARC-NODE-1 (ARC-NODE-2: access denied (denied)). Access there is unchanged; pushing to a peer as SYSTEM is often denied: deploy the extension on ARC-NODE-2.',
    );
  });

  it('reports a peer left alone as a success, and an ineligible one as a warning', () => {
    expect(
      line({ kind: 'leave', outcome: 'own-extension', message: 'managed by its own extension; left alone by ARC-NODE-1.' }),
    ).toMatchObject({ status: 'success', code: 0 });
    expect(line({ kind: 'leave', outcome: 'not-eligible', message: 'not covered: ...', checks: [] })).toMatchObject({
      status: 'warning',
      code: 0,
    });
    expect(line({ kind: 'batch-failed', message: "Windows host phase 'enable on ARC-NODE-2: apply' failed: timeout" })).toMatchObject({
      status: 'error',
      code: 1,
      message: "Windows host phase 'enable on ARC-NODE-2: apply' failed: timeout. Run the command again.",
    });
  });

  it('lists every prerequisite check under an ineligible node, the failed ones as errors with the fix', () => {
    const checks = checkPrerequisites(clusterProbe('ARC-NODE-1', 2 * GIB), {
      kind: 'PayAsYouGo',
      source: 'azure',
      detail: 'productProfile WindowsServer Enabled',
    });
    expect(prerequisiteSubstatus(checks).map((item) => [item.name, item.status, item.code])).toEqual([
      ['Prerequisite: Operating system', 'success', 0],
      ['Prerequisite: Memory', 'error', 51],
      ['Prerequisite: Azure Arc agent', 'success', 0],
      ['Prerequisite: License', 'success', 0],
    ]);
    expect(prerequisiteSubstatus(checks)[1]!.message).toMatch(
      /^Failed: found 2\.00 GiB installed; requires at least 4\.00 GiB installed\. Fix: add memory/,
    );
    expect(prerequisiteSubstatus(checks)[0]!.message).toBe(
      'Passed: Microsoft Windows Server 2022 Standard build 20348, product type 3 (server).',
    );
  });
});
