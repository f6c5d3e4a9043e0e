/** plan(intent, observed) as pure steps: order, idempotence, and what each access change touches. */
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import {
  DESIRED_STATE_FILE,
  ENDPOINT_NAME,
  GROUPS,
  HISTORY_FILE,
  PENDING_AUDIT_FILE,
  SESSION_CONFIGURATION_FILE,
  expireTaskName,
} from '../../core/node-layout';
import { serializePendingAudit, type PendingAudit } from '../../core/pending-audit';
import { buildNodeIntent, buildRemovalIntent } from '../../core/node-intent';
import { planNode, type ObservedNode } from '../../core/node-plan';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant();
const jea = {
  files: [{ path: 'C:\\Program Files\\WindowsPowerShell\\Modules\\ArcRemoteSupportJea\\ArcRemoteSupportJea.psd1', content: '@{}' }],
  sessionConfiguration: "@{ SchemaVersion = '2.0.0.0' }",
};

function freshNode(engineers: string[] = ['CONTOSO\\eng1']): ObservedNode {
  return {
    groups: {
      engineers: { exists: true, members: engineers },
      diagnostics: { exists: false, members: [] },
      repair: { exists: false, members: [] },
    },
    endpointRegistered: false,
    openSessions: 0,
    channelAccounts: [],
    channelTokenStored: false,
    logUploadSasStored: false,
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
    channelAccounts: [],
    channelTokenStored: false,
    logUploadSasStored: false,
    tasks: [
      { name: 'Reconcile', enabled: record.enabled },
      { name: 'Retention', enabled: record.enabled },
      ...(active ? [{ name: expireTaskName(active.grantId), enabled: true }] : []),
    ],
    files: {
      [DESIRED_STATE_FILE]: serializeDesiredRecord(record),
      [SESSION_CONFIGURATION_FILE]: jea.sessionConfiguration,
      [jea.files[0]!.path]: '@{}',
      [HISTORY_FILE]: 'x\n',
    },
    folders: {
      'C:\\ProgramData\\ArcRemoteSupport': true,
      'C:\\ProgramData\\ArcRemoteSupport\\Transcripts': true,
      'C:\\Program Files\\WindowsPowerShell\\Modules\\ArcRemoteSupportJea': true,
    },
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
    // The old level's access is taken first, then the change audited, then the new level given.
    expect(names(steps)).toEqual([
      'record the desired access',
      'remove diagnostics access',
      'append the access change to the history',
      'log event 1002',
      'give repair access',
    ]);
    expect(steps.find((step) => step.description === 'give repair access')!.operation).toMatchObject({
      name: GROUPS.repair,
      members: ['CONTOSO\\eng1'],
    });
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
    const grantedLine = JSON.stringify({
      at: '2026-11-24T19:59:00Z',
      change: 'granted',
      by: 'owner@contoso.example',
      level: 'Diagnostics',
      grantId: grant.grantId,
    });
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
    empty.files[HISTORY_FILE] =
      `${JSON.stringify({ at: '2026-11-24T19:59:00Z', change: 'granted', by: 'owner@contoso.example', level: 'Diagnostics', grantId: grant.grantId })}\n`;
    expect(planNode(intent(granted, empty), empty)).toEqual([]);
  });

  it('turns an expired grant off with an "expired" history entry, even with nothing else changed', () => {
    const node = after(freshNode(), granted, grant);
    const steps = planNode(intent(granted, node, granted, new Date('2026-11-25T04:00:00Z')), node);
    expect(names(steps)).toContain('remove diagnostics access');
    const history = steps.find((step) => step.description === 'append the access change to the history')!.operation as { content: string };
    expect(JSON.parse(history.content.trim().split('\n').pop()!)).toMatchObject({
      change: 'expired',
      by: 'expiry',
      level: 'None',
      grantId: grant.grantId,
    });
  });

  it('disables: access off and the tasks disabled, the installation kept', () => {
    const node = after(freshNode(), granted, grant);
    const disabled: DesiredRecord = { ...granted, enabled: false };
    const steps = names(planNode(intent(disabled, node, granted), node));
    expect(steps).toEqual(
      expect.arrayContaining([
        'disable task Reconcile',
        'disable task Retention',
        'remove diagnostics access',
        `delete task ${expireTaskName(grant.grantId)}`,
      ]),
    );
    expect(steps.join()).not.toMatch(/remove group|unregister|remove the/);
  });

  it('uninstalls every trace in an order a re-run can finish', () => {
    const node = { ...after(freshNode(), granted, grant), openSessions: 1 };
    const removal = planNode(buildRemovalIntent({ previous: granted, observed: node, now: NOW, changedBy: 'uninstall' }), node);
    expect(names(removal)).toEqual([
      'remove diagnostics access',
      'end open support sessions',
      'unregister the JEA endpoint ArcRemoteSupport',
      'log event 1003',
      'append the access change to the history',
      'delete task Reconcile',
      'delete task Retention',
      `delete task ${expireTaskName(grant.grantId)}`,
      `remove group ${GROUPS.engineers}`,
      `remove group ${GROUPS.diagnostics}`,
      `remove group ${GROUPS.repair}`,
      'remove the JEA module',
      'remove the data folder',
    ]);
  });
});

describe('taking access away never waits on the audit', () => {
  const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };
  const held = () => ({ ...after(freshNode(), granted, grant), openSessions: 1 });
  const ways: Array<[string, () => ReturnType<typeof planNode>]> = [
    ['a revoke', () => planNode(intent({ ...granted, grant: null }, held(), granted), held())],
    ['the expiry', () => planNode(intent(granted, held(), granted, new Date('2026-11-25T04:00:00Z')), held())],
    ['disable', () => planNode(intent({ ...granted, enabled: false }, held(), granted), held())],
    ['a level change', () => planNode(intent({ ...granted, grant: { ...grant, level: 'DiagnosticsAndRepair' } }, held(), granted), held())],
    ['uninstall', () => planNode(buildRemovalIntent({ previous: granted, observed: held(), now: NOW, changedBy: 'uninstall' }), held())],
  ];

  it.each(ways)('%s: every step that takes access away comes before the first audit write', (_way, plan) => {
    const steps = plan();
    const firstAudit = steps.findIndex((step) => step.kind === 'audit');
    const removals = steps.flatMap((step, index) => (step.kind === 'remove-access' ? [index] : []));
    expect(firstAudit).toBeGreaterThan(0);
    expect(removals.length).toBeGreaterThan(0);
    expect(Math.max(...removals)).toBeLessThan(firstAudit);
    // Emptying the group and ending the sessions are the steps that take access away.
    expect(
      steps
        .filter((step) => step.operation.op === 'setLocalGroupMembers' && (step.operation as { members: string[] }).members.length === 0)
        .every((step) => step.kind === 'remove-access'),
    ).toBe(true);
    expect(
      steps
        .filter(
          (step) =>
            step.operation.op === 'writeEvent' ||
            (step.operation.op === 'writeFile' && (step.operation as { path: string }).path === HISTORY_FILE),
        )
        .every((step) => step.kind === 'audit'),
    ).toBe(true);
  });

  it('records the history line and the event of one change under one id', () => {
    const steps = ways[0]![1]();
    const history = steps.find((step) => step.audit?.part === 'history')!;
    const event = steps.find((step) => step.audit?.part === 'event')!;
    const line = JSON.parse((history.operation as { content: string }).content.trim().split('\n').pop()!);
    expect(history.audit!.ids).toEqual([line.auditId]);
    expect(event.audit!.ids).toEqual([line.auditId]);
    expect((event.operation as { message: string }).message).toContain(`audit ${line.auditId},`);
  });

  it('records a revoke whose audit was not written, after a run that took access away and then died or failed to write it', () => {
    const revoked: DesiredRecord = { ...granted, grant: null };
    const gone = after(freshNode(), revoked, undefined);
    const grantedLine = JSON.stringify({ at: '2026-11-24T19:59:00Z', change: 'granted', level: 'Diagnostics', grantId: grant.grantId });
    const node = { ...gone, files: { ...gone.files, [HISTORY_FILE]: `${grantedLine}\n` } };
    // Nobody in the groups, no session: only the audit trail still says access was given.
    const steps = planNode(intent(revoked, node, revoked), node);
    expect(names(steps)).toEqual(['append the access change to the history', 'log event 1003']);
    const written = { ...node, files: { ...node.files, [HISTORY_FILE]: (steps[0]!.operation as { content: string }).content } };
    expect(planNode(intent(revoked, written, revoked), written)).toEqual([]);
  });
});

describe('audit records waiting from an earlier run', () => {
  const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };
  const settled = () => after(freshNode(), granted, grant);
  const waiting = (record: Partial<PendingAudit>): PendingAudit => ({
    id: '20261124T193000Z-revoked-old',
    historyLine: JSON.stringify({ at: '2026-11-24T19:30:00Z', change: 'revoked', auditId: '20261124T193000Z-revoked-old' }),
    event: {
      eventId: 1003,
      level: 'Warning',
      message: 'Remote support access revoked: level None, grant old, audit 20261124T193000Z-revoked-old, expires n/a.',
    },
    why: { history: 'Failed: disk full', event: 'Failed: event log stopped' },
    ...record,
  });
  const withWaiting = (records: PendingAudit[], loggedAuditIds?: string[]) => {
    const node = settled();
    return {
      ...node,
      files: { ...node.files, [PENDING_AUDIT_FILE]: serializePendingAudit(records) },
      ...(loggedAuditIds ? { loggedAuditIds } : {}),
    };
  };

  it('appends a waiting history line, once: not when the history already has its id', () => {
    const node = withWaiting([waiting({ event: null })]);
    const steps = planNode(intent(granted, node), node);
    expect(names(steps)).toEqual(['append the access change to the history']);
    expect((steps[0]!.operation as { content: string }).content).toBe(`x\n${waiting({}).historyLine}\n`);
    const written = { ...node, files: { ...node.files, [HISTORY_FILE]: (steps[0]!.operation as { content: string }).content } };
    expect(planNode(intent(granted, written), written)).toEqual([]);
  });

  it('writes a waiting event again only when the event log was read and does not have it', () => {
    const record = waiting({ historyLine: null });
    expect(planNode(intent(granted, withWaiting([record])), withWaiting([record]))).toEqual([]);
    expect(planNode(intent(granted, withWaiting([record], [record.id])), withWaiting([record], [record.id]))).toEqual([]);
    const steps = planNode(intent(granted, withWaiting([record], ['another'])), withWaiting([record], ['another']));
    expect(steps).toEqual([
      {
        description: 'log event 1003',
        kind: 'audit',
        audit: { part: 'event', ids: [record.id] },
        operation: expect.objectContaining({ op: 'writeEvent', message: record.event!.message }),
      },
    ]);
  });

  it('writes no waiting history line where everything of ours is removed, but still its event', () => {
    const gone = after(freshNode(), { ...granted, grant: null }, undefined);
    const node = { ...gone, files: { ...gone.files, [PENDING_AUDIT_FILE]: serializePendingAudit([waiting({})]) }, loggedAuditIds: [] };
    const steps = planNode(
      buildRemovalIntent({ previous: { ...granted, grant: null }, observed: node, now: NOW, changedBy: 'uninstall' }),
      node,
    );
    expect(steps.filter((step) => step.kind === 'audit').map((step) => step.description)).toEqual(['log event 1003']);
  });
});

describe('uninstall ends access with its audit', () => {
  const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };
  const removal = (observed: ObservedNode, previous: DesiredRecord = granted, now = NOW) =>
    buildRemovalIntent({ previous, observed, now, changedBy: 'uninstall' });

  it('removes access first, then writes the event and the history line, then every trace, the record last', () => {
    const node = { ...after(freshNode(), granted, grant), openSessions: 1 };
    const steps = planNode(removal(node), node);
    expect(names(steps).slice(0, 6)).toEqual([
      'remove diagnostics access',
      'end open support sessions',
      `unregister the JEA endpoint ${ENDPOINT_NAME}`,
      'log event 1003',
      'append the access change to the history',
      'delete task Reconcile',
    ]);
    expect(names(steps).pop()).toBe('remove the data folder');
    const event = steps.find((step) => step.description === 'log event 1003')!.operation as { message: string; level: string };
    expect(event).toMatchObject({
      level: 'Warning',
      message: `Remote support access revoked: level None, grant ${grant.grantId}, audit 20261124T200000Z-revoked-${grant.grantId}, expires 2026-11-25T04:00:00Z, support request TKT-1, terms 2026.1, by uninstall.`,
    });
    const history = steps.find((step) => step.description === 'append the access change to the history')!.operation as { content: string };
    expect(history.content.startsWith('x\n')).toBe(true);
    expect(JSON.parse(history.content.trim().split('\n').pop()!)).toMatchObject({
      change: 'revoked',
      by: 'uninstall',
      level: 'None',
      grantId: grant.grantId,
    });
  });

  it('still records the revoke when a killed run removed access but wrote no audit yet', () => {
    // The history's last word gave access: the grant's own line, written when it was applied.
    const applied = JSON.stringify({
      at: '2026-11-24T20:00:00Z',
      change: 'granted',
      by: 'owner@contoso.example',
      level: 'Diagnostics',
      grantId: grant.grantId,
    });
    const removed = after(freshNode(), granted, undefined);
    const node = { ...removed, files: { ...removed.files, [HISTORY_FILE]: `x\n${applied}\n` } };
    expect(removal(node).audit.map((record) => record.event.eventId)).toEqual([1003]);
  });

  it('does not record it twice when a killed run already wrote its history line', () => {
    const held = after(freshNode(), granted, grant);
    const line = removal(held).audit[0]!.historyLine!;
    expect(JSON.parse(line)).toMatchObject({ change: 'revoked', grantId: grant.grantId });
    // The killed run emptied the groups and wrote its line (and its event before it).
    const node = after(freshNode(), granted, undefined);
    const again = removal({ ...node, files: { ...node.files, [HISTORY_FILE]: `x\n${line}\n` } });
    expect(again.audit).toEqual([]);
  });

  it('records an expiry the Expire task missed as expired, and nothing when nobody had access', () => {
    const node = after(freshNode(), granted, grant);
    const late = removal(node, granted, new Date('2026-11-25T05:00:00Z'));
    expect(JSON.parse(late.audit[0]!.historyLine!)).toMatchObject({ change: 'expired', by: 'expiry' });
    const nobody = after(freshNode(), { ...granted, grant: null }, undefined);
    expect(removal(nobody, { ...granted, grant: null })).toMatchObject({ audit: [] });
  });
});

describe('audit text', () => {
  it('escapes separators, controls and bidirectional characters of a record read from disk in the history line and the event', () => {
    const hostile: Grant = {
      ...grant,
      supportRequestId: 'TKT-1\u2028forged line',
      consent: { ...grant.consent, termsVersion: '2026.1\u202e3.7002' },
    };
    const record: DesiredRecord = { enabled: true, retentionDays: 30, grant: hostile };
    const built = buildNodeIntent({
      record,
      previous: { ...record, grant: null },
      observed: freshNode(),
      now: NOW,
      changedBy: 'Eve\u0000\u2066admin',
    });
    // eslint-disable-next-line no-control-regex -- the very characters the audit trail must not hold raw
    const raw = /[\u0000-\u001f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    expect(built.audit[0]!.historyLine).not.toMatch(raw);
    expect(built.audit[0]!.event.message).not.toMatch(raw);
    expect(built.audit[0]!.event.message).toContain(
      'support request TKT-1\\u2028forged line, terms 2026.1\\u202e3.7002, by Eve\\u0000\\u2066admin.',
    );
    // The history line stays JSON and reads back as what was recorded.
    expect(JSON.parse(built.audit[0]!.historyLine!)).toMatchObject({
      supportRequestId: 'TKT-1\u2028forged line',
      by: 'Eve\u0000\u2066admin',
    });
  });
});
