/**
 * The grant's log upload SAS in the node plan: written machine-protected with the grant, kept while
 * the same grant stays (the agent reconciling has no SAS to write), and removed first, as access,
 * before any audit write, when the grant ends (revoke, expiry, another grant, disable, uninstall).
 */
import { serializeDesiredRecord, parseDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import type { LogUploadGrant } from '../../core/log-upload-grant';
import { DESIRED_STATE_FILE, LOG_UPLOAD_SAS_FILE } from '../../core/node-layout';
import { buildNodeIntent, buildRemovalIntent } from '../../core/node-intent';
import { planNode, type ObservedNode, type Step } from '../../core/node-plan';
import { decideNode, LOCAL_NODE, type NodeRequest } from '../../core/decide-node';
import type { ProbeResult } from '../../windows/operations';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant();
const upload: LogUploadGrant = {
  grantId: grant.grantId,
  container: 'contosologs/support',
  sasDigest: 'a'.repeat(64),
  sasExpiresAt: grant.expiresAt,
};
const SAS = 'https://contosologs.blob.core.windows.net/support?sp=cw&sr=c&se=2026-11-25T04%3A00%3A00Z&sig=SECRETSIG';
const STORE = "store the grant's log upload SAS";
const REMOVE = "remove the grant's log upload SAS";

function node(overrides: Partial<ObservedNode> = {}, record?: DesiredRecord): ObservedNode {
  return {
    groups: {
      engineers: { exists: true, members: ['CONTOSO\\eng1'] },
      diagnostics: { exists: true, members: record?.grant ? ['CONTOSO\\eng1'] : [] },
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
const granted: DesiredRecord = { enabled: true, retentionDays: 90, grant, logUpload: upload };
const plan = (record: DesiredRecord, observed: ObservedNode, previous: DesiredRecord, logUploadSas?: string, now = NOW) =>
  planNode(
    buildNodeIntent({
      record,
      previous,
      observed,
      now,
      changedBy: 'owner@contoso.example',
      ...(logUploadSas !== undefined ? { logUploadSas } : {}),
    }),
    observed,
  );
const names = (steps: Step[]) => steps.map((step) => step.description);
const firstAudit = (steps: Step[]) => steps.findIndex((step) => step.kind === 'audit');

describe("the grant's log upload SAS in the node plan", () => {
  it('is written machine-protected with the grant, the SAS never in a description or the serialized operation', () => {
    const steps = plan(granted, node(), none, SAS);
    const store = steps.find((step) => step.description === STORE)!;
    expect(store.operation).toMatchObject({ op: 'writeSecretFile', path: LOG_UPLOAD_SAS_FILE });
    expect(JSON.stringify(steps)).not.toContain('SECRETSIG');
    expect(names(steps)).not.toContain(REMOVE);
  });

  it('is kept in the record by digest only, for its own grant', () => {
    const text = serializeDesiredRecord(granted);
    expect(JSON.parse(text).logUpload).toEqual({
      grantId: grant.grantId,
      container: 'contosologs/support',
      sasDigest: 'a'.repeat(64),
      sasExpiresAt: '2026-11-25T04:00:00.000Z',
    });
    expect(parseDesiredRecord(text).record.logUpload).toEqual(upload);
    // A log upload of another grant is not kept.
    const other = serializeDesiredRecord({ ...granted, logUpload: { ...upload, grantId: '11111111-2222-4333-8444-555555555555' } });
    expect(JSON.parse(other).logUpload).toBeUndefined();
  });

  it('is not written again when stored and unchanged, nor removed by the agent reconciling without it', () => {
    const stored = node({ logUploadSasStored: true }, granted);
    expect(names(plan(granted, stored, granted, SAS))).not.toContain(STORE);
    expect(names(plan(granted, stored, granted))).not.toContain(REMOVE);
    expect(names(plan(granted, node({}, granted), granted, SAS))).toContain(STORE);
  });

  it('a new SAS for the same grant: the old one goes first, then the new one is written', () => {
    const renewed: DesiredRecord = { ...granted, logUpload: { ...upload, sasDigest: 'b'.repeat(64) } };
    const order = names(plan(renewed, node({ logUploadSasStored: true }, granted), granted, SAS));
    expect(order.indexOf(REMOVE)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(REMOVE)).toBeLessThan(order.indexOf(STORE));
  });

  it.each([
    ['revoke', none, NOW],
    ['a grant without log uploads', { ...granted, logUpload: undefined }, NOW],
    ['disable', { ...granted, enabled: false }, NOW],
    ['expiry', granted, new Date('2026-11-25T04:00:01Z')],
    ['another grant', { ...granted, grant: { ...grant, grantId: '11111111-2222-4333-8444-555555555555' }, logUpload: undefined }, NOW],
  ])('%s removes it as access, before any audit write, and writes none', (_name, record, now) => {
    const steps = plan(record as DesiredRecord, node({ logUploadSasStored: true }, granted), granted, undefined, now);
    const removal = steps.findIndex((step) => step.description === REMOVE);
    expect(removal).toBeGreaterThanOrEqual(0);
    expect(steps[removal]).toMatchObject({ kind: 'remove-access', operation: { op: 'removePath', path: LOG_UPLOAD_SAS_FILE } });
    const audit = firstAudit(steps);
    if (audit >= 0) expect(removal).toBeLessThan(audit);
    expect(names(steps)).not.toContain(STORE);
  });

  it('uninstall removes it as access before the audit', () => {
    const observed = node({ logUploadSasStored: true }, granted);
    const steps = planNode(buildRemovalIntent({ previous: granted, observed, now: NOW, changedBy: 'uninstall' }), observed);
    const removal = steps.findIndex((step) => step.description === REMOVE);
    expect(steps[removal]?.kind).toBe('remove-access');
    expect(removal).toBeLessThan(firstAudit(steps));
  });
});

describe("the grant's log upload SAS in the node decision", () => {
  const probe = { computerName: 'WEB01' } as ProbeResult;
  const decide = (previous: DesiredRecord, request: Partial<NodeRequest>) => {
    const seen = { observed: node({ logUploadSasStored: previous.logUpload !== undefined }, previous), probe };
    const decision = decideNode(
      seen,
      LOCAL_NODE,
      {
        now: NOW,
        target: () => ({ enabled: true, retentionDays: 90, grant }),
        changedBy: 'owner',
        checkPrerequisites: 'never',
        ...request,
      },
      {},
    );
    if (decision.kind !== 'converge') throw new Error(`expected converge, got ${decision.kind}`);
    return { record: decision.record!, steps: names(planNode(decision.intent, seen.observed)) };
  };

  it('takes the SAS of the settings with the grant and writes it', () => {
    const { record, steps } = decide(none, { logUpload: { record: upload, sas: SAS } });
    expect(record.logUpload).toEqual(upload);
    expect(steps).toContain(STORE);
  });

  it('keeps the stored one on a public-only re-send of the same grant, and drops it when the grant is new', () => {
    expect(decide(granted, { keepLogUpload: true }).record.logUpload).toEqual(upload);
    const older: DesiredRecord = {
      ...granted,
      grant: { ...grant, grantId: '11111111-2222-4333-8444-555555555555' },
      logUpload: { ...upload, grantId: '11111111-2222-4333-8444-555555555555' },
    };
    const { record, steps } = decide(older, { keepLogUpload: true });
    expect(record.logUpload).toBeUndefined();
    expect(steps).toContain(REMOVE);
  });

  it('drops it when the settings state the grant again without one', () => {
    const { record, steps } = decide(granted, {});
    expect(record.logUpload).toBeUndefined();
    expect(steps).toContain(REMOVE);
  });
});
