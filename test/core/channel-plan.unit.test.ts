/**
 * The channel in the node plan: the grant's account and token exist before the account is given
 * access, the Channel task last; and when the grant ends (revoke, expiry, another grant, uninstall)
 * the session processes, the accounts and the token go as access removals, before any audit write.
 */
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import type { NodeChannel } from '../../core/node-channel';
import { CHANNEL_TASK, CHANNEL_TOKEN_FILE, DESIRED_STATE_FILE, GROUPS, channelUserName, expireTaskName } from '../../core/node-layout';
import { buildNodeIntent, buildRemovalIntent } from '../../core/node-intent';
import { planNode, type ObservedNode } from '../../core/node-plan';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant();
const channel: NodeChannel = {
  grantId: grant.grantId,
  machine: 'arc-web-01',
  relayNamespace: 'contoso-support.servicebus.windows.net',
  hybridConnection: 'rs-arc-web-01-3f2b8c1e',
  ticketPublicKey: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
  listenTokenDigest: 'a'.repeat(64),
  listenTokenExpiresAt: grant.expiresAt,
};
const ACCOUNT = channelUserName(grant.grantId);
const TOKEN = 'SharedAccessSignature sr=http%3A%2F%2Fcontoso-support.servicebus.windows.net%2Frs%2F&sig=SECRETSIG&se=1&skn=agent-listen';

function node(overrides: Partial<ObservedNode> = {}, record?: DesiredRecord): ObservedNode {
  return {
    groups: {
      engineers: { exists: true, members: ['CONTOSO\\eng1'] },
      diagnostics: { exists: true, members: [] },
      repair: { exists: true, members: [] },
    },
    endpointRegistered: true,
    openSessions: 0,
    channelAccounts: [],
    channelTokenStored: false,
    logUploadSasStored: false,
    tasks: [
      { name: 'Reconcile', enabled: true },
      { name: 'Retention', enabled: true },
    ],
    files: record ? { [DESIRED_STATE_FILE]: serializeDesiredRecord(record) } : {},
    folders: { 'C:\\ProgramData\\ArcRemoteSupport': true, 'C:\\ProgramData\\ArcRemoteSupport\\Transcripts': true },
    ...overrides,
  };
}

const none: DesiredRecord = { enabled: true, retentionDays: 90, grant: null };
const granted: DesiredRecord = { enabled: true, retentionDays: 90, grant, channel };
const plan = (
  record: DesiredRecord,
  observed: ObservedNode,
  previous: DesiredRecord,
  extra: { channelToken?: string; computerName?: string } = {},
) =>
  planNode(
    buildNodeIntent({ record, previous, observed, now: NOW, changedBy: 'owner@contoso.example', computerName: 'WEB01', ...extra }),
    observed,
  );
const names = (steps: ReturnType<typeof planNode>) => steps.map((step) => step.description);

describe('the channel in the node plan', () => {
  it('grants: account and token before the account is given access, the Channel task after', () => {
    const steps = plan(granted, node(), none, { channelToken: TOKEN });
    const order = names(steps);
    const give = order.indexOf('give diagnostics access');
    expect(order.indexOf(`create the channel account ${ACCOUNT}`)).toBeLessThan(give);
    expect(order.indexOf('store the relay listen token')).toBeLessThan(give);
    expect(order.indexOf(`register task ${CHANNEL_TASK}`)).toBeGreaterThan(give);
    expect(order.indexOf(`register task ${expireTaskName(grant.grantId)}`)).toBeLessThan(give);
    const members = steps[give]!.operation as { members: string[] };
    expect(members.members).toEqual(['CONTOSO\\eng1', `WEB01\\${ACCOUNT}`]);
  });

  it('never puts the token into the step description or the serialized operation', () => {
    const steps = plan(granted, node(), none, { channelToken: TOKEN });
    const text = JSON.stringify(steps);
    expect(text).not.toContain('SECRETSIG');
    expect(steps.find((step) => step.description === 'store the relay listen token')).toBeDefined();
  });

  it('plans nothing for a node that already has it all (the agent reconciling without the token)', () => {
    const observed = node(
      {
        channelAccounts: [ACCOUNT],
        channelTokenStored: true,
        groups: {
          engineers: { exists: true, members: ['CONTOSO\\eng1'] },
          diagnostics: { exists: true, members: ['CONTOSO\\eng1', `WEB01\\${ACCOUNT}`] },
          repair: { exists: true, members: [] },
        },
        tasks: [
          { name: 'Reconcile', enabled: true },
          { name: 'Retention', enabled: true },
          { name: expireTaskName(grant.grantId), enabled: true },
          { name: CHANNEL_TASK, enabled: true },
        ],
        files: { [DESIRED_STATE_FILE]: serializeDesiredRecord(granted), 'C:\\ProgramData\\ArcRemoteSupport\\history.jsonl': '' },
      },
      granted,
    );
    const steps = plan(granted, observed, granted).filter(
      (step) => !step.description.startsWith('append') && !step.description.startsWith('log event'),
    );
    expect(names(steps)).toEqual([]);
  });

  it('stores the token again only when it changed or is missing', () => {
    const stored = node({ channelAccounts: [ACCOUNT], channelTokenStored: true });
    expect(names(plan(granted, stored, granted, { channelToken: TOKEN }))).not.toContain('store the relay listen token');
    const renewed: DesiredRecord = { ...granted, channel: { ...channel, listenTokenDigest: 'b'.repeat(64) } };
    expect(names(plan(renewed, stored, granted, { channelToken: TOKEN }))).toContain('store the relay listen token');
    expect(names(plan(granted, node({ channelAccounts: [ACCOUNT] }), granted, { channelToken: TOKEN }))).toContain(
      'store the relay listen token',
    );
  });

  it.each([
    ['revoked', none, NOW],
    ['expired', granted, new Date('2026-11-25T04:00:01Z')],
  ] as Array<[string, DesiredRecord, Date?]>)(
    '%s: ends the session processes, deletes the account and the token as access removals, before any audit write',
    (_why, record, at) => {
      const observed = node({
        channelAccounts: [ACCOUNT],
        channelTokenStored: true,
        groups: {
          engineers: { exists: true, members: ['CONTOSO\\eng1'] },
          diagnostics: { exists: true, members: ['CONTOSO\\eng1', `WEB01\\${ACCOUNT}`] },
          repair: { exists: true, members: [] },
        },
        tasks: [{ name: CHANNEL_TASK, enabled: true }],
      });
      const steps = planNode(
        buildNodeIntent({ record, previous: granted, observed, now: at ?? NOW, changedBy: 'owner@contoso.example', computerName: 'WEB01' }),
        observed,
      );
      const removals = steps.filter((step) => step.kind === 'remove-access').map((step) => step.description);
      expect(removals).toEqual(
        expect.arrayContaining([
          'remove diagnostics access',
          'end channel sessions',
          `remove the channel account ${ACCOUNT}`,
          'remove the relay listen token',
        ]),
      );
      const firstAudit = steps.findIndex((step) => step.kind === 'audit');
      const lastRemoval = steps.map((step) => step.kind).lastIndexOf('remove-access');
      expect(firstAudit).toBeGreaterThan(lastRemoval);
      expect(names(steps)).toContain(`delete task ${CHANNEL_TASK}`);
    },
  );

  it("removes another grant's account (left by a crash) while keeping the current one", () => {
    const steps = plan(granted, node({ channelAccounts: ['ArcRS-deadbeef', ACCOUNT], channelTokenStored: true }), granted);
    expect(names(steps)).toEqual(expect.arrayContaining(['end channel sessions', 'remove the channel account ArcRS-deadbeef']));
    expect(names(steps)).not.toContain(`remove the channel account ${ACCOUNT}`);
  });

  it('fails closed when the accounts could not be read and no grant is in force: session processes are ended', () => {
    expect(names(plan(none, node({ channelAccounts: null }), none))).toContain('end channel sessions');
  });

  it('on a domain controller gives the engineers access but creates no account and no Channel task', () => {
    const steps = names(plan(granted, node({ channelAccounts: 'none-possible' }), none, { channelToken: TOKEN }));
    expect(steps).toContain('give diagnostics access');
    expect(steps.some((step) => step.includes('channel account') || step.includes(CHANNEL_TASK) || step.includes('token'))).toBe(false);
  });

  it('uninstall ends the sessions and deletes the accounts before the endpoint and the audit', () => {
    const observed = node({ channelAccounts: [ACCOUNT], channelTokenStored: true });
    const steps = planNode(buildRemovalIntent({ previous: granted, observed, now: NOW, changedBy: 'uninstall' }), observed);
    const order = names(steps);
    expect(order.indexOf('end channel sessions')).toBeLessThan(order.indexOf('unregister the JEA endpoint ArcRemoteSupport'));
    expect(order).toContain(`remove the channel account ${ACCOUNT}`);
    expect(steps.find((step) => step.description === `remove the channel account ${ACCOUNT}`)?.kind).toBe('remove-access');
  });

  it('keeps a channel only with its own grant in the record', () => {
    const other = { ...granted, channel: { ...channel, grantId: '00000000-0000-4000-8000-000000000000' } };
    expect(serializeDesiredRecord(other)).not.toContain('hybridConnection');
    expect(serializeDesiredRecord(granted)).toContain(channel.hybridConnection);
    expect(serializeDesiredRecord(granted)).not.toContain('SharedAccessSignature');
    expect(GROUPS.diagnostics).toBe('ArcRemoteSupport Diagnostics');
    expect(CHANNEL_TOKEN_FILE).toMatch(/\\channel-listen\.token$/);
  });
});
