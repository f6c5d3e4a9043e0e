/**
 * How the handler reports the node's last log collection (each enable's message, each node's
 * line), and how the CLI's `status` reads it back: the outcome, when, the blob or the reason,
 * never a SAS; the request's own state while the outcome is about another collection.
 */
import { logCollectionStatus } from '../../cli/commands/log-collection-status';
import { LOCAL_NODE } from '../../core/decide-node';
import { describeLastLogCollection } from '../../core/last-log-collection';
import { serializeLogCollectionRecord, type LogCollectionRecord } from '../../core/log-collection-record';
import { LAST_LOG_COLLECTION_FILE } from '../../core/node-layout';
import { nodeSubstatus } from '../../core/node-report';
import { ALL_RECORDED } from '../../core/pending-audit';
import { observedNode } from '../support/cluster-node';

const ID = '6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f';
const OTHER = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const uploaded: LogCollectionRecord = {
  collectionId: ID,
  trigger: 'owner',
  requestedBy: 'owner',
  requestedAt: '2026-12-06T10:00:00Z',
  window: { from: '2026-12-06T06:00:00Z', to: '2026-12-06T09:59:00Z' },
  categories: ['ArcAgent'],
  includeSecurityLog: false,
  grantId: null,
  supportRequestId: null,
  consent: 'owner request',
  startedAt: '2026-12-06T10:00:20Z',
  endedAt: '2026-12-06T10:01:05Z',
  outcome: 'uploaded',
  detail: 'uploaded 3 file(s)',
  container: 'contosologs/support-logs',
  blobName: `app-01/20261206T100105Z-${ID}.zip`,
  bundleBytes: 2048,
  fileCount: 3,
  skippedCount: 0,
  bundleSha256: 'cd'.repeat(32),
};
const text = (change: Partial<LogCollectionRecord> = {}) => serializeLogCollectionRecord({ ...uploaded, ...change });

describe("the node's last log collection, as the handler says it", () => {
  it('says uploaded with when and the blob, failed or cancelled with when and the reason', () => {
    expect(describeLastLogCollection(text())).toBe(
      `last log collection ${ID} uploaded at 2026-12-06T10:01:05Z to contosologs/support-logs/app-01/20261206T100105Z-${ID}.zip`,
    );
    expect(
      describeLastLogCollection(
        text({
          outcome: 'failed',
          container: null,
          blobName: null,
          detail: 'Azure Storage said 403 "AuthorizationFailure".\nMake a new SAS.',
        }),
      ),
    ).toBe(`last log collection ${ID} failed at 2026-12-06T10:01:05Z: "Azure Storage said 403 'AuthorizationFailure'. Make a new SAS"`);
    expect(
      describeLastLogCollection(
        text({ outcome: 'cancelled', container: null, blobName: null, detail: 'grant ended before it started: nothing was collected.' }),
      ),
    ).toBe(`last log collection ${ID} cancelled at 2026-12-06T10:01:05Z: "grant ended before it started: nothing was collected"`);
  });

  it('never passes a SAS on, should a record hold one', () => {
    const said = describeLastLogCollection(
      text({ outcome: 'failed', detail: 'PUT https://contosologs.blob.core.windows.net/support-logs/x.zip?sv=2024&sig=c2VjcmV0 refused' }),
    )!;
    expect(said).not.toMatch(/sig=c2VjcmV0|sv=2024/);
    expect(said).toContain('https://contosologs.blob.core.windows.net/support-logs/x.zip?[query removed] refused');
    expect(describeLastLogCollection(text({ outcome: 'failed', detail: 'token sig=c2VjcmV0 refused' }))).not.toContain('c2VjcmV0');
  });

  it('says nothing without a readable record', () => {
    expect(describeLastLogCollection(null)).toBeNull();
    expect(describeLastLogCollection('{ not json')).toBeNull();
    expect(describeLastLogCollection(JSON.stringify({ schemaVersion: 1, collectionId: ID }))).toBeNull();
  });

  it("is part of the node's line, after the access", () => {
    const line = nodeSubstatus(
      {
        kind: 'converged',
        record: { enabled: true, retentionDays: 30, grant: null },
        probe: null,
        observed: observedNode({ [LAST_LOG_COLLECTION_FILE]: text() }),
        steps: [],
        failure: null,
        audit: ALL_RECORDED,
      },
      { name: 'APP-01', who: LOCAL_NODE, removing: false, now: new Date('2026-12-06T11:00:00Z') },
    );
    expect(line).toMatchObject({
      status: 'success',
      message: `access off; last log collection ${ID} uploaded at 2026-12-06T10:01:05Z to contosologs/support-logs/app-01/20261206T100105Z-${ID}.zip; no change needed.`,
    });
  });
});

describe('status reads it back', () => {
  const enable = (last: string, request = '') =>
    `Access: off. Settings 4 applied.${request} ${last[0]!.toUpperCase()}${last.slice(1)}.\nNode APP-01: access off; ${last}; no change needed.`;
  const settings = (requestId?: string) => ({
    schemaVersion: 1,
    ...(requestId ? { logCollection: { requestId, window: { from: 'a', to: 'b' }, categories: ['ArcAgent'] } } : {}),
  });

  it('shows the outcome when the settings hold no request (a later write dropped it), or hold this one', () => {
    const message = enable(describeLastLogCollection(text())!);
    expect(logCollectionStatus(settings(), message)).toEqual({
      requestId: ID,
      state: 'uploaded',
      endedAt: '2026-12-06T10:01:05Z',
      blob: `contosologs/support-logs/app-01/20261206T100105Z-${ID}.zip`,
      detail: `Last log collection ${ID} uploaded at 2026-12-06T10:01:05Z to contosologs/support-logs/app-01/20261206T100105Z-${ID}.zip.`,
    });
    expect(logCollectionStatus(settings(ID), message)).toMatchObject({ state: 'uploaded', categories: ['ArcAgent'] });
    const cancelled = enable(
      describeLastLogCollection(text({ outcome: 'cancelled', detail: 'revoked while it ran: nothing was committed.' }))!,
    );
    expect(logCollectionStatus(settings(), cancelled)).toMatchObject({
      state: 'cancelled',
      endedAt: '2026-12-06T10:01:05Z',
      reason: 'revoked while it ran: nothing was committed',
    });
  });

  it('shows the request state while the last outcome is of an earlier collection', () => {
    const message = enable(
      describeLastLogCollection(text())!,
      ` Log collection ${OTHER} requested: the CollectLogs task collects and uploads within a minute.`,
    );
    expect(logCollectionStatus(settings(OTHER), message)).toMatchObject({ requestId: OTHER, state: 'requested' });
  });
});
