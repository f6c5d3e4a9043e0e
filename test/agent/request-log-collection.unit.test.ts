/**
 * `agent request-log-collection`, the engineer's request as the JEA function hands it over: accepted
 * only under a grant in force whose owner allowed log uploads, one collection at a time (the running
 * one named), the window and categories checked again against the node's clock; each refusal on one
 * line, and nothing left on the node by a refused request.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { requestLogCollectionCommand } from '../../agent/diag/request-log-collection-command';
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import { parseLogCollectionRequest } from '../../core/log-collection-record';
import {
  COLLECT_LOGS_TASK,
  DATA_FOLDER,
  DESIRED_STATE_FILE,
  LOG_COLLECTION_REQUEST_FILE,
  LOG_UPLOAD_SAS_FILE,
  TASK_FOLDER,
} from '../../core/node-layout';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { hostSecret, op } from '../../windows/operations';
import { testGrant } from '../support/test-grant';

const NODE = 'ARC-NODE-1';
const NOW = new Date('2026-11-24T20:00:00Z');
const grant: Grant = testGrant({ supportRequestId: 'TKT-2611240001' });
const withUploads: DesiredRecord = {
  enabled: true,
  retentionDays: 90,
  grant,
  logUpload: { grantId: grant.grantId, container: 'contosologs/support', sasDigest: 'a'.repeat(64), sasExpiresAt: grant.expiresAt },
};
const SAS = 'https://contosologs.blob.core.windows.net/support?sp=cw&sr=c&se=2026-11-25T04%3A00%3A00Z&sig=SECRETSIG';
const ARGS = [
  '--from',
  '2026-11-24T18:00:00Z',
  '--to',
  '2026-11-24T19:30:00Z',
  '--category',
  'ArcAgent,EventLogs',
  '--requested-by',
  'CONTOSO\\eng1',
];

describe('agent request-log-collection', () => {
  let base: string;
  let host: SimulatedHost;

  /** A node with `record` as its desired state and, when `sas`, the grant's SAS stored. */
  async function nodeWith(record: DesiredRecord | null, sas = true): Promise<void> {
    await writeMachine(path.join(base, 'machine.json'), createDefaultMachine());
    host = new SimulatedHost(path.join(base, 'machine.json'), { localNode: NODE });
    await host.execute(
      [
        op('ensureDirectory', { path: DATA_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        ...(record ? [op('writeFile', { path: DESIRED_STATE_FILE, content: serializeDesiredRecord(record) })] : []),
        ...(sas ? [op('writeSecretFile', { path: LOG_UPLOAD_SAS_FILE, secret: hostSecret(SAS) })] : []),
      ],
      { phase: 'test: lay out the node' },
    );
  }
  const run = (argv = ARGS, now = NOW) => requestLogCollectionCommand(argv, host, now);
  const nodeFiles = async () => (await readMachine(path.join(base, 'machine.json'))).nodes[NODE]!;
  const waiting = async () => {
    const file = (await nodeFiles()).files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()];
    return file ? parseLogCollectionRequest(Buffer.from(file.contentBase64 ?? '', 'base64').toString('utf8')) : undefined;
  };
  const withArg = (name: string, value: string) => ARGS.map((item, index) => (ARGS[index - 1] === name ? value : item));

  beforeEach(async () => {
    base = await fs.mkdtemp(path.join(tmpdir(), 'ars-request-logs-'));
  });
  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  it('accepts under a grant that allows log uploads: the request for the agent, the CollectLogs task, one line with the id', async () => {
    await nodeWith(withUploads);
    const result = await run();
    expect(result.exitCode).toBe(0);
    const request = (await waiting())!;
    expect(result.output).toBe(
      `Log collection ${request.collectionId} requested: ArcAgent, EventLogs from 2026-11-24T18:00:00.000Z to 2026-11-24T19:30:00.000Z, under the grant ${grant.grantId} (support request TKT-2611240001); the node's agent starts it in about 30 seconds and uploads it to contosologs/support.`,
    );
    expect(request).toMatchObject({
      trigger: 'engineer',
      requestedBy: 'CONTOSO\\eng1',
      requestedAt: NOW.toISOString(),
      window: { from: '2026-11-24T18:00:00.000Z', to: '2026-11-24T19:30:00.000Z' },
      categories: ['ArcAgent', 'EventLogs'],
      includeSecurityLog: false,
      grantId: grant.grantId,
      supportRequestId: 'TKT-2611240001',
    });
    expect((await nodeFiles()).tasks[`${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase()]).toBeDefined();
    expect(JSON.stringify(await nodeFiles())).not.toContain('SECRETSIG');
  });

  it('refuses a second request while the first waits, naming the first, and leaves the first as it was', async () => {
    await nodeWith(withUploads);
    expect((await run()).exitCode).toBe(0);
    const first = (await waiting())!;
    const second = await run(withArg('--requested-by', 'CONTOSO\\eng2'));
    expect(second.exitCode).toBe(3);
    expect(second.output).toBe(
      `Log collection refused: the collection ${first.collectionId} (requested ${first.requestedAt}) has not ended: one collection at a time: wait until ${first.collectionId} ends (its record appears in the log collection history), then ask again.`,
    );
    expect(await waiting()).toEqual(first);
  });

  it('gives a waiting request with no run to come its CollectLogs task again, and still refuses the new one', async () => {
    await nodeWith(withUploads);
    expect((await run()).exitCode).toBe(0);
    const first = (await waiting())!;
    const taskKey = `${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase();
    await host.execute([op('deleteTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK })], { phase: 'test: the task expired' });
    expect((await nodeFiles()).tasks[taskKey]).toBeUndefined();
    const second = await run(withArg('--requested-by', 'CONTOSO\\eng2'));
    expect(second.exitCode).toBe(3);
    expect(second.output).toContain(first.collectionId);
    expect(await waiting()).toEqual(first);
    expect((await nodeFiles()).tasks[taskKey]).toBeDefined();
  });

  it.each([
    ['no grant has ever been given', null, NOW, /no grant is in force on this node/],
    ['the grant was revoked', { ...withUploads, grant: null, logUpload: undefined }, NOW, /no grant is in force on this node/],
    ['the access was disabled', { ...withUploads, enabled: false }, NOW, /no grant is in force/],
    [
      'the grant expired on the node clock',
      withUploads,
      new Date('2026-11-25T04:00:00Z'),
      new RegExp(`the grant ${grant.grantId} expired at 2026-11-25T04:00:00.000Z: ask the owner for a new grant`),
    ],
    [
      'the grant carries no log upload SAS',
      { ...withUploads, logUpload: undefined },
      NOW,
      /the owner did not allow log uploads with this grant \(.*\): ask the owner to grant again with --log-container-sas-file/,
    ],
  ])('refuses when %s (exit 3, one line), writing nothing', async (_name, record, now, reason) => {
    await nodeWith(record as DesiredRecord | null);
    const argv = now === NOW ? ARGS : withArg('--to', '2026-11-25T03:30:00Z');
    const result = await run(argv, now);
    expect(result.exitCode).toBe(3);
    expect(result.output).toMatch(/^Log collection refused: /);
    expect(result.output).toMatch(reason);
    expect(result.output).not.toContain('\n');
    expect(await waiting()).toBeUndefined();
    expect((await nodeFiles()).tasks[`${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase()]).toBeUndefined();
  });

  it('refuses when the record allows uploads but the SAS is not on the node', async () => {
    await nodeWith(withUploads, false);
    const result = await run();
    expect(result).toMatchObject({ exitCode: 3, output: expect.stringContaining('--log-container-sas-file') });
    expect(await waiting()).toBeUndefined();
  });

  it.each([
    ['a window ending after the node clock', withArg('--to', '2026-11-24T20:00:01Z'), /window\.to '2026-11-24T20:00:01Z' is in the future/],
    ['a window longer than 24 hours', withArg('--from', '2026-11-23T19:00:00Z'), /longer than 24 hours/],
    ['a window that starts after it ends', withArg('--from', '2026-11-24T19:45:00Z'), /is not before window\.to/],
    ['a time that is not UTC', withArg('--from', '2026-11-24T18:00:00+01:00'), /is not a UTC time/],
    ['a category outside the fixed set', withArg('--category', 'ArcAgent,C:\\Windows'), /category 'C:\\Windows' is not one of/],
    ['no category', withArg('--category', ''), /category '' is not one of/],
    ['a path argument', [...ARGS, '--path', 'C:\\Windows'], /unknown argument "--path"/],
    ['a missing --requested-by', ARGS.slice(0, 6), /--requested-by missing/],
    ['a requester with a line break', withArg('--requested-by', 'CONTOSO\\eng1\nforged line'), /--requested-by must be the account name/],
  ])('refuses %s as a bad argument (exit 2) before reading the node', async (_name, argv, reason) => {
    await nodeWith(withUploads);
    const result = await run(argv);
    expect(result.exitCode).toBe(2);
    expect(result.output).toMatch(reason);
    expect(result.output).toContain('usage: agent request-log-collection');
    expect(await waiting()).toBeUndefined();
  });

  it('re-checks the window against the node clock, not the clock of the caller: a window already past for the caller is refused', async () => {
    await nodeWith(withUploads);
    // The node's clock is behind the engineer's: the window's end has not come yet on the node.
    const result = await run(ARGS, new Date('2026-11-24T19:00:00Z'));
    expect(result.exitCode).toBe(2);
    expect(result.output).toMatch(/in the future \(now 2026-11-24T19:00:00\.000Z\)/);
  });
});
