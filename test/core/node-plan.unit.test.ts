/** plan(intent, observed) as pure steps: order, idempotence, and what each access change touches. */
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import { DESIRED_STATE_FILE, GROUPS, HISTORY_FILE, SESSION_CONFIGURATION_FILE, expireTaskName } from '../../core/node-layout';
import { buildNodeIntent, removalIntent } from '../../core/node-intent';
import { planNode, type ObservedNode } from '../../core/node-plan';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = {
  level: 'Diagnostics',
  grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
  expiresAt: new Date('2026-11-25T04:00:00Z'),
  supportRequestId: 'TKT-1',
  consent: { termsVersion: '2026.1', acceptedAt: new Date('2026-11-24T19:59:00Z'), acceptedBy: 'owner@contoso.example' },
};
const jea = { files: [{ path: 'C:\\Program Files\\WindowsPowerShell\\Modules\\ArcRemoteSupportJea\\ArcRemoteSupportJea.psd1', content: '@{}' }], sessionConfiguration: "@{ SchemaVersion = '2.0.0.0' }" };

function freshNode(engineers: string[] = ['CONTOSO\\eng1']): ObservedNode {
  return {
    groups: { engineers: { exists: true, members: engineers }, diagnostics: { exists: false, members: [] }, repair: { exists: false, members: [] } },
    endpointRegistered: false,
    openSessions: 0,
    tasks: [],
    files: {},
    folders: {},
  };
}

/** The node after the steps ran, as far as the plan can tell: enough to plan again. */
function after(observed: ObservedNode, record: DesiredRecord, active: Grant | undefined): ObservedNode {
  const level = active ? (active.level === 'Diagnostics' ? 'diagnostics' : 'repair') : null;
  return {
    groups: {
      engineers: observed.groups.engineers,
      diagnostics: { exists: true, members: level === 'diagnostics' ? observed.groups.engineers.members : [] },
      repair: { exists: true, members: level === 'repair' ? observed.groups.engineers.members : [] },
    },
    endpointRegistered: true,
    openSessions: 0,
    tasks: [{ name: 'Reconcile', enabled: record.enabled }, { name: 'Retention', enabled: record.enabled }, ...(active ? [{ name: expireTaskName(active.grantId), enabled: true }] : [])],
    files: { [DESIRED_STATE_FILE]: serializeDesiredRecord(record), [SESSION_CONFIGURATION_FILE]: jea.sessionConfiguration, [jea.files[0]!.path]: '@{}', [HISTORY_FILE]: 'x\n' },
    folders: { 'C:\\ProgramData\\ArcRemoteSupport': true, 'C:\\ProgramData\\ArcRemoteSupport\\Transcripts': true, 'C:\\Program Files\\WindowsPowerShell\\Modules\\ArcRemoteSupportJea': true },
  };
}

const intent = (record: DesiredRecord, observed: ObservedNode, previous: DesiredRecord = record, now = NOW) =>
  buildNodeIntent({ record, previous, observed, now, changedBy: 'owner@contoso.example', jea });
const names = (steps: ReturnType<typeof planNode>) => steps.map((step) => step.description);

describe('plan', () => {
  const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };

  it('installs and grants in a crash-safe order: record first, expiry task before access', () => {
    const steps = names(planNode(intent(granted, freshNode(), { enabled: true, retentionDays: 90, grant: null }), freshNode()));
    expect(steps[0]).toMatch(/^create C:\\ProgramData\\ArcRemoteSupport/);
    expect(steps.indexOf('record the desired access')).toBeLessThan(steps.indexOf('give diagnostics access'));
    expect(steps.indexOf(`register task ${expireTaskName(grant.grantId)}`)).toBeLessThan(steps.indexOf('give diagnostics access'));
    expect(steps).toContain('append the access change to the history');
    expect(steps).toContain('log event 1001');
    expect(steps).toContain('register the JEA endpoint ArcRemoteSupport');
  });

  it('plans nothing for a node that already matches (enable again after a reboot)', () => {
    const node = after(freshNode(), granted, grant);
    expect(planNode(intent(granted, node), node)).toEqual([]);
  });

  it('changes membership only when the level changes: never the endpoint', () => {
    const node = after(freshNode(), granted, grant);
    const repair: DesiredRecord = { ...granted, grant: { ...grant, level: 'DiagnosticsAndRepair' } };
    const steps = planNode(intent(repair, node, granted), node);
    expect(names(steps)).toEqual(['record the desired access', 'append the access change to the history', 'log event 1002', 'remove diagnostics access', 'give repair access']);
    expect(steps.find((step) => step.description === 'give repair access')!.operation).toMatchObject({ name: GROUPS.repair, members: ['CONTOSO\\eng1'] });
  });

  it('revokes by removing membership and ending sessions before the audit write, then deleting the expiry task', () => {
    const node = { ...after(freshNode(), granted, grant), openSessions: 2 };
    const revoked: DesiredRecord = { ...granted, grant: null };
    expect(names(planNode(intent(revoked, node, granted), node))).toEqual([
      'record the desired access',
      'remove diagnostics access',
      'end open support sessions',
      'append the access change to the history',
      'log event 1003',
      `delete task ${expireTaskName(grant.grantId)}`,
    ]);
  });

  it('writes the revoke to the history after a crash that came between removing access and the audit write', () => {
    // The record already says no grant and the groups are empty: only the history still says access was given.
    const revoked: DesiredRecord = { ...granted, grant: null };
    const grantedLine = JSON.stringify({ at: '2026-11-24T19:59:00Z', change: 'granted', by: 'owner@contoso.example', level: 'Diagnostics', grantId: grant.grantId });
    const crashed = after(freshNode(), revoked, undefined);
    crashed.files[HISTORY_FILE] = `${grantedLine}\n`;
    const steps = planNode(intent(revoked, crashed), crashed);
    expect(names(steps)).toEqual(['append the access change to the history', 'log event 1003']);
    const history = (steps[0]!.operation as { content: string }).content.split('\n');
    expect(JSON.parse(history[1]!)).toMatchObject({ change: 'revoked', level: 'None' });
    // Once written, the history's last word is the revoke: nothing more to do.
    const settled = { ...crashed, files: { ...crashed.files, [HISTORY_FILE]: (steps[0]!.operation as { content: string }).content } };
    expect(planNode(intent(revoked, settled), settled)).toEqual([]);
  });

  it('does not repeat a grant in the history while nobody is in the engineers group', () => {
    const empty = after(freshNode([]), granted, grant);
    empty.files[HISTORY_FILE] = `${JSON.stringify({ at: '2026-11-24T19:59:00Z', change: 'granted', by: 'owner@contoso.example', level: 'Diagnostics', grantId: grant.grantId })}\n`;
    expect(planNode(intent(granted, empty), empty)).toEqual([]);
  });

  it('turns an expired grant off with an "expired" history entry, even with nothing else changed', () => {
    const node = after(freshNode(), granted, grant);
    const steps = planNode(intent(granted, node, granted, new Date('2026-11-25T04:00:00Z')), node);
    expect(names(steps)).toContain('remove diagnostics access');
    const history = steps.find((step) => step.description === 'append the access change to the history')!.operation as { content: string };
    expect(JSON.parse(history.content.trim().split('\n').pop()!)).toMatchObject({ change: 'expired', by: 'expiry', level: 'None', grantId: grant.grantId });
  });

  it('disables: access off and the tasks disabled, the installation kept', () => {
    const node = after(freshNode(), granted, grant);
    const disabled: DesiredRecord = { ...granted, enabled: false };
    const steps = names(planNode(intent(disabled, node, granted), node));
    expect(steps).toEqual(expect.arrayContaining(['disable task Reconcile', 'disable task Retention', 'remove diagnostics access', `delete task ${expireTaskName(grant.grantId)}`]));
    expect(steps.join()).not.toMatch(/remove group|unregister|remove the/);
  });

  it('uninstalls every trace in an order a re-run can finish', () => {
    const node = { ...after(freshNode(), granted, grant), openSessions: 1 };
    const removal = planNode(removalIntent(), node);
    expect(names(removal)).toEqual([
      'remove diagnostics access',
      'end open support sessions',
      'delete task Reconcile',
      'delete task Retention',
      `delete task ${expireTaskName(grant.grantId)}`,
      'unregister the JEA endpoint ArcRemoteSupport',
      `remove group ${GROUPS.engineers}`,
      `remove group ${GROUPS.diagnostics}`,
      `remove group ${GROUPS.repair}`,
      'remove the JEA module',
      'remove the data folder',
    ]);
  });
});
