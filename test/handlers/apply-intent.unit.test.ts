/**
 * Applying a revoke's steps when one of them fails, on a host that fails the operations it is
 * told to: access is taken away whatever else fails, an audit write's failure stops nothing and
 * its record waits in the pending audit file, and a step that depends on a failed one does not run.
 */
import { buildNodeIntent, buildRemovalIntent } from '../../core/node-intent';
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import {
  DATA_FOLDER,
  DESIRED_STATE_FILE,
  GROUPS,
  HISTORY_FILE,
  PENDING_AUDIT_FILE,
  TRANSCRIPT_FOLDER,
  expireTaskName,
} from '../../core/node-layout';
import type { ObservedNode } from '../../core/node-plan';
import { parsePendingAudit } from '../../core/pending-audit';
import { applyIntent, observeNode } from '../../handlers/phases/converge-node';
import type { OperationRequest } from '../../windows/operations';
import { HostBatchError, type BatchOptions, type OperationOutcome, type WindowsHost } from '../../windows/port';
import { observedNode } from '../support/cluster-node';
import { testGrant } from '../support/test-grant';

const NOW = new Date('2026-11-24T21:00:00Z');
const grant: Grant = testGrant();
const granted: DesiredRecord = { enabled: true, retentionDays: 30, grant };
const revoked: DesiredRecord = { ...granted, grant: null };

/** What an operation acts on, to name it in the test: `writeFile <path>`, `endSessions`, ... */
const nameOf = (operation: OperationRequest): string => {
  const fields = operation as unknown as Record<string, unknown>;
  const target =
    fields.path ??
    (operation.op === 'setLocalGroupMembers' ? fields.name : undefined) ??
    (operation.op === 'deleteTask' ? fields.name : undefined);
  return target ? `${operation.op} ${String(target)}` : operation.op;
};

/** A host that runs every operation but those `failing` names, and keeps what it ran, batch by batch. */
class FailingHost implements WindowsHost {
  readonly batches: Array<{ names: string[]; stopOnError: boolean }> = [];
  readonly ran: string[] = [];
  /** The content of each file written, by path. */
  readonly written: Record<string, string> = {};
  constructor(private readonly failing: Set<string>) {}
  get launches(): number {
    return this.batches.length;
  }
  decryptor(): never {
    throw new Error('not used');
  }
  async execute(operations: OperationRequest[], options: BatchOptions): Promise<OperationOutcome[]> {
    const stopOnError = options.stopOnError ?? true;
    this.batches.push({ names: operations.map(nameOf), stopOnError });
    let failed = false;
    return operations.map((operation): OperationOutcome => {
      const name = nameOf(operation);
      if (failed && stopOnError)
        return { ok: false, error: { operation: operation.op, code: 'Skipped', message: 'not run', target: null } };
      this.ran.push(name);
      if (!this.failing.has(name)) {
        if (operation.op === 'writeFile') this.written[operation.path] = operation.content;
        return { ok: true, value: {} };
      }
      failed = true;
      return { ok: false, error: { operation: operation.op, code: 'Failed', message: `${name} failed`, target: null } };
    });
  }
}

/** A node with the grant in force, the engineer in the group and a session open. */
function heldNode(): ObservedNode {
  const node = observedNode({ [DESIRED_STATE_FILE]: serializeDesiredRecord(granted), [HISTORY_FILE]: '' });
  return {
    ...node,
    groups: { ...node.groups, diagnostics: { exists: true, members: ['CONTOSO\\eng1'] } },
    openSessions: 1,
    folders: { [DATA_FOLDER]: true, [TRANSCRIPT_FOLDER]: true },
    tasks: [
      { name: 'Reconcile', enabled: true },
      { name: 'Retention', enabled: true },
      { name: expireTaskName(grant.grantId), enabled: true },
    ],
  };
}

const RECORD = `writeFile ${DESIRED_STATE_FILE}`;
const REMOVE = `setLocalGroupMembers ${GROUPS.diagnostics}`;
const END = 'endSessions';
const HISTORY = `writeFile ${HISTORY_FILE}`;
const EVENT = 'writeEvent';
const DELETE = `deleteTask ${expireTaskName(grant.grantId)}`;
const KEEP = `writeFile ${PENDING_AUDIT_FILE}`;

interface Case {
  failing: string[];
  /** The plan's operations that ran (in order), and the bookkeeping after them. */
  ran: string[];
  failure: string | null;
  /** What waits in the pending audit file afterwards. */
  waiting: Array<'history' | 'event'>;
}

const CASES: Array<[string, Case]> = [
  ['nothing fails: one batch', { failing: [], ran: [RECORD, REMOVE, END, HISTORY, EVENT, DELETE], failure: null, waiting: [] }],
  [
    'the record write fails: access is still taken away and audited; the cleanup after it waits',
    { failing: [RECORD], ran: [RECORD, REMOVE, END, HISTORY, EVENT], failure: 'record the desired access', waiting: [] },
  ],
  [
    'emptying the group fails: the sessions still end; no audit of a change not made (the next run finds it again)',
    { failing: [REMOVE], ran: [RECORD, REMOVE, END], failure: 'remove diagnostics access', waiting: [] },
  ],
  [
    'ending the sessions fails: no audit of a revoke not finished, and the cleanup after it waits',
    { failing: [END], ran: [RECORD, REMOVE, END], failure: 'end open support sessions', waiting: [] },
  ],
  [
    'the history write fails: everything else runs, and the line waits',
    {
      failing: [HISTORY],
      ran: [RECORD, REMOVE, END, HISTORY, EVENT, DELETE, 'ensureDirectory C:\\ProgramData\\ArcRemoteSupport', KEEP],
      failure: null,
      waiting: ['history'],
    },
  ],
  [
    'the event write fails: everything else runs, and the event waits',
    {
      failing: [EVENT],
      ran: [RECORD, REMOVE, END, HISTORY, EVENT, DELETE, 'ensureDirectory C:\\ProgramData\\ArcRemoteSupport', KEEP],
      failure: null,
      waiting: ['event'],
    },
  ],
];

describe('applying a revoke when a step fails', () => {
  it.each(CASES)('%s', async (_name, expected) => {
    const host = new FailingHost(new Set(expected.failing));
    const observed = heldNode();
    const applied = await applyIntent(
      host,
      { phase: 'test' },
      buildNodeIntent({ record: revoked, previous: granted, observed, now: NOW, changedBy: 'owner@contoso.example' }),
      observed,
    );
    expect(host.ran).toEqual(expected.ran);
    expect(applied.failure?.step.description ?? null).toBe(expected.failure);
    expect(
      applied.audit.unrecorded.flatMap((record) => [...(record.historyLine ? ['history'] : []), ...(record.event ? ['event'] : [])]),
    ).toEqual(expected.waiting);
    expect(applied.audit.keptIn).toBe(expected.waiting.length > 0 ? PENDING_AUDIT_FILE : null);
    if (expected.failing.length === 0) expect(host.launches).toBe(1);
  });

  it.each<[string, string, string[]]>([
    ['the record write fails: every other step still runs, the audit included', RECORD, [RECORD, REMOVE, END, HISTORY, EVENT, DELETE]],
    ['emptying the group fails: the cleanup still runs, but no audit of a revoke not made', REMOVE, [RECORD, REMOVE, END, DELETE]],
  ])("the owner's local revoke tries every step (stopOnError false): %s", async (_name, failing, ran) => {
    const host = new FailingHost(new Set([failing]));
    const observed = heldNode();
    const applied = await applyIntent(
      host,
      { phase: 'test', stopOnError: false },
      buildNodeIntent({ record: revoked, previous: granted, observed, now: NOW, changedBy: 'CONTOSO\\admin (local)' }),
      observed,
    );
    expect(host.ran).toEqual(ran);
    expect(applied.outcomes.map((outcome) => (outcome.ok ? 'ok' : outcome.error.code))).toEqual(
      ran.length === 6 ? ['Failed', 'ok', 'ok', 'ok', 'ok', 'ok'] : ['ok', 'Failed', 'ok', 'Skipped', 'Skipped', 'ok'],
    );
    expect(applied.failure).toMatchObject({ step: { operation: { op: failing.split(' ')[0] } } });
  });

  it('uninstall: the sessions end and the endpoint goes even when emptying a group failed; its audit and the cleanup wait for the next run', async () => {
    const host = new FailingHost(new Set([REMOVE]));
    const observed = { ...heldNode(), endpointRegistered: true };
    const applied = await applyIntent(
      host,
      { phase: 'test' },
      buildRemovalIntent({ previous: granted, observed, now: NOW, changedBy: 'uninstall' }),
      observed,
    );
    expect(host.ran).toEqual([REMOVE, END, 'unregisterSessionConfiguration']);
    expect(applied.failure).toMatchObject({ step: { description: 'remove diagnostics access' } });
    expect(applied.audit.unrecorded).toEqual([]);
  });

  it('says so when the record could not be kept either, and names why', async () => {
    const host = new FailingHost(new Set([EVENT, KEEP]));
    const observed = heldNode();
    const applied = await applyIntent(
      host,
      { phase: 'test' },
      buildNodeIntent({ record: revoked, previous: granted, observed, now: NOW, changedBy: 'owner@contoso.example' }),
      observed,
    );
    expect(host.ran).toContain(REMOVE);
    expect(applied.failure).toBeNull();
    expect(applied.audit).toMatchObject({
      keptIn: null,
      problem: expect.stringContaining(`${PENDING_AUDIT_FILE} could not be written: Failed: ${KEEP} failed`),
    });
    expect(applied.audit.unrecorded).toHaveLength(1);
  });

  it('writes a waiting event on the next run, once, and then removes the pending file', async () => {
    const first = new FailingHost(new Set([EVENT]));
    const observed = heldNode();
    await applyIntent(
      first,
      { phase: 'test' },
      buildNodeIntent({ record: revoked, previous: granted, observed, now: NOW, changedBy: 'owner@contoso.example' }),
      observed,
    );
    const waiting = parsePendingAudit(first.written[PENDING_AUDIT_FILE] ?? null).records;
    expect(waiting).toEqual([
      expect.objectContaining({
        historyLine: null,
        event: expect.objectContaining({ eventId: 1003 }),
        why: { event: `Failed: ${EVENT} failed` },
      }),
    ]);

    // The next run: access is off, the history has the revoke, the event waits.
    const files = {
      [DESIRED_STATE_FILE]: first.written[DESIRED_STATE_FILE]!,
      [HISTORY_FILE]: first.written[HISTORY_FILE]!,
      [PENDING_AUDIT_FILE]: first.written[PENDING_AUDIT_FILE]!,
    };
    const next = (loggedAuditIds: string[] | undefined): ObservedNode => ({
      ...observedNode(files),
      folders: heldNode().folders,
      tasks: heldNode().tasks.slice(0, 2),
      ...(loggedAuditIds ? { loggedAuditIds } : {}),
    });
    const intentAt = (node: ObservedNode) =>
      buildNodeIntent({
        record: revoked,
        previous: revoked,
        observed: node,
        now: new Date(NOW.getTime() + 900_000),
        changedBy: 'agent reconcile',
      });

    // The event log could not be read: the event is not written blind (it might be there), it keeps waiting.
    const blind = new FailingHost(new Set());
    expect((await applyIntent(blind, { phase: 'test' }, intentAt(next(undefined)), next(undefined))).audit).toMatchObject({
      keptIn: PENDING_AUDIT_FILE,
      unrecorded: waiting,
    });
    expect(blind.batches).toEqual([]);

    // Read, without it: written, and the file goes.
    const retry = new FailingHost(new Set());
    expect((await applyIntent(retry, { phase: 'test' }, intentAt(next([])), next([]))).audit).toEqual({
      unrecorded: [],
      keptIn: null,
      problem: null,
    });
    expect(retry.batches.map((batch) => batch.names)).toEqual([[EVENT], [`removePath ${PENDING_AUDIT_FILE}`]]);

    // Read, with it (written by a run that died before it removed the file): not written twice.
    const done = new FailingHost(new Set());
    expect((await applyIntent(done, { phase: 'test' }, intentAt(next([waiting[0]!.id])), next([waiting[0]!.id]))).audit.unrecorded).toEqual(
      [],
    );
    expect(done.batches.map((batch) => batch.names)).toEqual([[`removePath ${PENDING_AUDIT_FILE}`]]);
  });
});

describe('observing a node where an event waits', () => {
  it('reads the event log for it, and goes on without it when the log cannot be read at all', async () => {
    const waiting = `${JSON.stringify({ schemaVersion: 1, records: [{ id: 'a-1', historyLine: null, event: { eventId: 1003, level: 'Warning', message: 'm' }, why: {} }] })}\n`;
    const batches: string[][] = [];
    const host = (readEvents: () => OperationOutcome[]): WindowsHost => ({
      launches: 0,
      decryptor: () => {
        throw new Error('not used');
      },
      execute: async (operations) => {
        batches.push(operations.map((operation) => operation.op));
        if (operations[0]?.op === 'readEvents') return readEvents();
        return operations.map((operation): OperationOutcome =>
          operation.op === 'readFile' && operation.path === PENDING_AUDIT_FILE
            ? { ok: true, value: { exists: true, content: waiting } }
            : { ok: false, error: { operation: operation.op, code: 'NotFound', message: 'none', target: null } },
        );
      },
    });
    const logged = await observeNode(
      host(() => [
        { ok: true, value: { events: [{ message: 'Remote support access revoked: level None, grant g, audit a-1, expires n/a.' }] } },
      ]),
      { phase: 'test' },
      [],
    );
    expect(logged).toMatchObject({ kind: 'observed', observed: { loggedAuditIds: ['a-1'] } });
    expect(batches.at(-1)).toEqual(['readEvents']);
    const unreadable = await observeNode(
      host(() => {
        throw new HostBatchError('test', 'readEvents', 'Timeout', 'the event log did not answer');
      }),
      { phase: 'test' },
      [],
    );
    expect(unreadable.kind === 'observed' && unreadable.observed.loggedAuditIds).toBeUndefined();
  });
});
