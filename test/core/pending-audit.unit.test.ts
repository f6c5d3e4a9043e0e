/** Audit records waiting to be written: what still waits after a run, and how a run tells it. */
import { auditIdsInEvents, auditIdsInHistory, auditRecord } from '../../core/audit-record';
import { PENDING_AUDIT_FILE } from '../../core/node-layout';
import {
  describeAuditReport,
  parsePendingAudit,
  pendingAfter,
  serializePendingAudit,
  type AuditState,
  type PendingAudit,
} from '../../core/pending-audit';

const revoke = auditRecord(
  {
    at: new Date('2026-11-24T21:00:00Z'),
    change: 'revoked',
    by: 'owner@contoso.example',
    level: 'None',
    grantId: 'g-1',
    expiresAt: new Date('2026-11-25T04:00:00Z'),
    supportRequestId: 'TKT-1',
    termsVersion: '2026.1',
  },
  true,
);
const older: PendingAudit = {
  id: '20261124T200000Z-granted-g-0',
  historyLine: '{"auditId":"20261124T200000Z-granted-g-0"}',
  event: null,
  why: { history: 'Failed: disk full' },
};

const state = (change: Partial<AuditState>): AuditState => ({
  before: [],
  records: [revoke],
  keepsHistory: true,
  inHistory: new Set(),
  logged: null,
  attempts: [],
  ...change,
});
const attempt = (part: 'history' | 'event', result: 'written' | 'failed' | 'not-run', ids = [revoke.id]) => ({
  part,
  ids,
  result,
  ...(result === 'failed' ? { error: `Failed: ${part} down` } : {}),
});

describe('an audit record', () => {
  it('carries one id in its history line and in its event, which the event log and the history give back', () => {
    expect(revoke.id).toBe('20261124T210000Z-revoked-g-1');
    expect(JSON.parse(revoke.historyLine!)).toMatchObject({ change: 'revoked', grantId: 'g-1', auditId: revoke.id });
    expect(revoke.event).toEqual({
      eventId: 1003,
      level: 'Warning',
      message: `Remote support access revoked: level None, grant g-1, audit ${revoke.id}, expires 2026-11-25T04:00:00Z, support request TKT-1, terms 2026.1, by owner@contoso.example.`,
    });
    expect(auditIdsInEvents([revoke.event, { message: 'another source wrote this' }])).toEqual([revoke.id]);
    expect([...auditIdsInHistory(`${revoke.historyLine}\nnot json\n`)]).toEqual([revoke.id]);
  });
});

describe('what waits after a run', () => {
  it.each<[string, Partial<AuditState>, Array<Partial<PendingAudit>>]>([
    ['both parts written: nothing', { attempts: [attempt('history', 'written'), attempt('event', 'written')] }, []],
    [
      'the event failed: the event, with why',
      { attempts: [attempt('history', 'written'), attempt('event', 'failed')] },
      [{ id: revoke.id, historyLine: null, event: revoke.event, why: { event: 'Failed: event down' } }],
    ],
    [
      'the history failed: the line, with why',
      { attempts: [attempt('history', 'failed'), attempt('event', 'written')] },
      [{ historyLine: revoke.historyLine, event: null, why: { history: 'Failed: history down' } }],
    ],
    [
      'not run (its access step failed): nothing, the next run finds the change again',
      { attempts: [attempt('history', 'not-run'), attempt('event', 'not-run')] },
      [],
    ],
    [
      'no history where everything is removed: only the event can wait',
      { keepsHistory: false, attempts: [attempt('event', 'failed')] },
      [{ historyLine: null, why: { event: 'Failed: event down' } }],
    ],
    ['a waiting line found in the history: done', { records: [], before: [older], inHistory: new Set([older.id]) }, []],
    ['a waiting line not tried this run: still waiting, with its first why', { records: [], before: [older] }, [older]],
    [
      'a waiting line whose retry failed: the new why',
      { records: [], before: [older], attempts: [attempt('history', 'failed', [older.id])] },
      [{ ...older, why: { history: 'Failed: history down' } }],
    ],
  ])('%s', (_name, change, expected) => {
    expect(pendingAfter(state(change))).toEqual(expected.map((item) => expect.objectContaining(item)));
  });

  it('reads back what it writes, and refuses a file it cannot read without losing it', () => {
    expect(parsePendingAudit(serializePendingAudit([older]))).toEqual({ records: [older], problem: null });
    expect(parsePendingAudit(null)).toEqual({ records: [], problem: null });
    expect(parsePendingAudit('{"schemaVersion":1,"records":[{"id":1}]}')).toEqual({
      records: [],
      problem: expect.stringContaining(`${PENDING_AUDIT_FILE} is unreadable`),
    });
  });

  it('tells what was not recorded, why, and where it waits or that it could not be kept', () => {
    const waiting = pendingAfter(state({ attempts: [attempt('history', 'failed'), attempt('event', 'failed')] }));
    expect(describeAuditReport({ unrecorded: waiting, keptIn: PENDING_AUDIT_FILE, problem: null })).toBe(
      `Audit not recorded: the history line of audit ${revoke.id} (Failed: history down); event 1003 of audit ${revoke.id} (Failed: event down). Kept in ${PENDING_AUDIT_FILE}; the next run on the node writes it.`,
    );
    expect(describeAuditReport({ unrecorded: waiting, keptIn: null, problem: 'the disk is full' })).toMatch(
      /It could not be kept for the next run \(the disk is full\): this message is its only record\.$/,
    );
  });
});
