/**
 * The owner's log collection from the CLI against the ARM emulator, in-process, through the real
 * HybridCompute SDK and pipeline (oav-validated): `collect-logs` sends the request in public
 * settings beside the grant in force and the container SAS in protected settings only; every bad
 * input is refused before any write, naming the option and the fix and never the SAS; `grant
 * --log-container-sas-file` adds the grant's upload container; `status` shows the request as the
 * handler reported it; a later write does not carry the one-shot request over.
 */
import { promises as fs } from 'fs';
import path from 'path';
import type { ExtensionRun, ExtensionRunResult } from '../../sim/arm';
import { checkPublicSettings } from '../../cli/settings/settings-check';
import { describeLastLogCollection } from '../../core/last-log-collection';
import { serializeLogCollectionRecord, type LogCollectionRecord } from '../../core/log-collection-record';
import { openSupportTickets, startEmulatedCli, SUBSCRIPTION, type CliRun, type EmulatedCli } from '../support/cli-harness';
import { succeededRun } from '../../sim/arm/long-running-operations';

const RG = 'rg-logs';
const EXTENSION = 'WindowsRemoteSupport';
const HOUR = 3_600_000;
const SIGNATURE = 'bG9nLXVwbG9hZC1zaWduYXR1cmU%3D';
const DECODED_SIGNATURE = 'bG9nLXVwbG9hZC1zaWduYXR1cmU=';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** A container SAS as Azure issues it; `change` replaces or removes its fields. */
function sasUrl(change: Record<string, string | null> = {}, base = 'https://contosologs.blob.core.windows.net/support-logs'): string {
  const fields: Record<string, string | null> = {
    sv: '2024-08-04',
    sr: 'c',
    sp: 'cw',
    spr: 'https',
    se: new Date(Date.now() + 4 * HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    sig: SIGNATURE,
    ...change,
  };
  const query = Object.entries(fields)
    .filter(([, value]) => value !== null)
    .map(([name, value]) => `${name}=${name === 'sig' ? value : encodeURIComponent(value!)}`)
    .join('&');
  return `${base}?${query}`;
}

/** The node's LAST_LOG_COLLECTION_FILE, as the agent left it; null: none ran yet. */
let nodeLastCollection: string | null = null;

/** The extension manager as the handler reports a log collection request it took. */
const seenRuns: ExtensionRun[] = [];
async function extensionManager(run: ExtensionRun): Promise<ExtensionRunResult> {
  seenRuns.push(run);
  if (run.kind === 'delete') return { provisioningState: 'Succeeded' };
  const requestId = (run.properties.settings?.logCollection as { requestId?: string } | undefined)?.requestId;
  const note = requestId ? ` Log collection ${requestId} requested: the CollectLogs task collects and uploads within a minute.` : '';
  // What the node's last collection left, as the handler words it (core/last-log-collection.ts).
  const last = describeLastLogCollection(nodeLastCollection);
  const ended = last ? ` ${last[0]!.toUpperCase()}${last.slice(1)}.` : '';
  return succeededRun(
    run,
    `Access: as set.${note}${ended}\nNode ${run.machine.name.toUpperCase()}: no change needed${last ? `; ${last}` : ''}.`,
  );
}

let cli: EmulatedCli;
beforeAll(async () => {
  cli = await startEmulatedCli({
    supportTickets: openSupportTickets('TKT-7'),
    operationMs: 5,
    runExtension: extensionManager,
    machines: [
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'app-1' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'bare-1' },
      { subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'away-1', status: 'Disconnected' },
    ],
  });
  await deploy('app-1');
});

afterAll(() => cli.close());

const machine = (name: string) => ['--machine', name, '--resource-group', RG];
const stored = (name: string) => cli.emulator.extension(SUBSCRIPTION, RG, name, EXTENSION);
const settingsOf = (name: string) => stored(name)?.properties.settings as Record<string, any>;
const lastRun = (name: string) => seenRuns.filter((entry) => entry.machine.name === name).pop()!;

async function deploy(name: string): Promise<void> {
  expect((await cli.run(['deploy', ...machine(name)])).code).toBe(0);
}

/** A SAS file only its owner can read, as the CLI requires. */
async function sasFile(name: string, content: string, mode = 0o600): Promise<string> {
  const file = path.join(cli.folder, name);
  await fs.writeFile(file, content);
  await fs.chmod(file, mode);
  return file;
}

/** A run whose output must never hold the SAS or its signature. */
async function owner(argv: string[]): Promise<CliRun> {
  const run = await cli.run(argv);
  for (const secret of [SIGNATURE, DECODED_SIGNATURE, 'sig=']) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
  return run;
}

describe('collect-logs', () => {
  it('sends the request beside the grant in force and the SAS in protected settings only; prints the id and how to follow it', async () => {
    const granted = await owner([
      'grant',
      ...machine('app-1'),
      '--level',
      'Diagnostics',
      '--duration',
      '8h',
      '--support-request',
      'TKT-7',
      '--accept-terms',
    ]);
    expect(granted.code).toBe(0);
    const before = settingsOf('app-1');
    const sas = sasUrl();
    const file = await sasFile('sas.txt', `${sas}\n`);

    const run = await owner([
      'collect-logs',
      ...machine('app-1'),
      '--container-sas-file',
      file,
      '--hours',
      '2',
      '--category',
      'ArcAgent,eventlogs',
      '--category',
      'Extensions',
      '--include-security-log',
      '--output',
      'json',
    ]);
    expect(run.code).toBe(0);
    const [row] = JSON.parse(run.stdout).results;
    const requestId = UUID.exec(row.detail)?.[0];
    expect(row.result).toBe('ok');
    expect(row.detail).toMatch(
      new RegExp(
        `^log collection ${requestId} requested \\(\\S+Z to \\S+Z; ArcAgent, EventLogs, Extensions; with the Security log\\) to contosologs/support-logs; provisioning Succeeded\\. Follow it: arc-remote-support status --machine /subscriptions/${SUBSCRIPTION}/resourceGroups/${RG}/providers/Microsoft\\.HybridCompute/machines/app-1$`,
      ),
    );

    // Public: what the machine had (the grant stays) plus the request; protected: the SAS alone.
    const sent = lastRun('app-1').properties;
    const { logCollection, ...kept } = sent.settings as Record<string, any>;
    expect(kept).toEqual(before);
    expect(logCollection).toEqual({
      requestId,
      window: { from: expect.stringMatching(/Z$/), to: expect.stringMatching(/Z$/) },
      categories: ['ArcAgent', 'EventLogs', 'Extensions'],
      includeSecurityLog: true,
    });
    const from = Date.parse(logCollection.window.from);
    const to = Date.parse(logCollection.window.to);
    expect(to - from).toBe(2 * HOUR);
    expect(Date.now() - to).toBeGreaterThanOrEqual(60_000);
    expect(Date.now() - to).toBeLessThan(120_000);
    checkPublicSettings(sent.settings);
    expect(sent.protectedSettings).toEqual({ logCollection: { containerSas: sas } });
    // Azure never returns protected settings.
    expect(JSON.stringify(stored('app-1'))).not.toContain(DECODED_SIGNATURE.slice(0, 12));

    // status: the request as the handler reported it, the grant still in force.
    const status = await owner(['status', ...machine('app-1'), '--output', 'json']);
    expect(status.code).toBe(0);
    const [shown] = JSON.parse(status.stdout).machines;
    expect(shown).toMatchObject({ level: 'Diagnostics' });
    expect(shown.logCollection).toEqual({
      requestId,
      state: 'requested',
      detail: `Log collection ${requestId} requested: the CollectLogs task collects and uploads within a minute.`,
      window: logCollection.window,
      categories: logCollection.categories,
    });
  });

  it('takes an explicit window with --from and --to', async () => {
    const to = new Date(Math.floor((Date.now() - HOUR) / 1000) * 1000);
    const window = { from: new Date(to.getTime() - 3 * HOUR).toISOString(), to: to.toISOString() };
    const file = await sasFile('sas-window.txt', sasUrl());
    const run = await owner([
      'collect-logs',
      ...machine('app-1'),
      '--container-sas-file',
      file,
      '--from',
      window.from,
      '--to',
      window.to,
      '--category',
      'ArcRemoteSupport',
    ]);
    expect(run.code).toBe(0);
    expect(lastRun('app-1').properties.settings!.logCollection).toMatchObject({ window, categories: ['ArcRemoteSupport'] });
    expect(lastRun('app-1').properties.settings!.logCollection).not.toHaveProperty('includeSecurityLog');
  });

  it('refuses each bad input before any write, naming the option and the fix, never the SAS', async () => {
    const good = await sasFile('good.txt', sasUrl());
    const base = (file: string) => ['collect-logs', ...machine('app-1'), '--container-sas-file', file];
    const future = new Date(Date.now() + HOUR).toISOString();
    const cases: Array<[string[], RegExp]> = [
      [[...base(good), '--category', 'ArcAgent'], /--hours \/ --from --to: received nothing\. Give the time window to collect/],
      [[...base(good), '--hours', '25', '--category', 'ArcAgent'], /--hours: received "25"\. Give a whole number of hours from 1 to 24/],
      [[...base(good), '--hours', '2', '--from', '2026-01-01T00:00:00Z', '--category', 'ArcAgent'], /--hours: .*not both/],
      [[...base(good), '--from', '2026-01-01T00:00:00Z', '--category', 'ArcAgent'], /--to: received nothing\. Give the end of the window/],
      [
        [...base(good), '--from', '2026-01-01T00:00:00Z', '--to', future, '--category', 'ArcAgent'],
        /--to: received ".*"\. --to '.*' is in the future \(now .*\): end the window at or before now\./,
      ],
      [
        [...base(good), '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T06:00:00Z', '--category', 'ArcAgent'],
        /--from \/ --to: .*longer than 24 hours: collect at most 24 hours at a time\./,
      ],
      [
        [...base(good), '--from', '2026-01-01 00:00', '--to', '2026-01-01T02:00:00Z', '--category', 'ArcAgent'],
        /--from: received "2026-01-01 00:00"\. --from '2026-01-01 00:00' is not a UTC time: give it as 2026-01-31T08:00:00Z\./,
      ],
      [
        [...base(good), '--hours', '1'],
        /--category: received nothing\. Name what to collect, separated by commas: ArcRemoteSupport, ArcAgent/,
      ],
      [
        [...base(good), '--hours', '1', '--category', 'ArcAgent,Passwords'],
        /--category: received "ArcAgent,Passwords"\. category 'Passwords' is not one of ArcRemoteSupport, ArcAgent, Extensions, EventLogs, Cluster, HyperV, WindowsUpdate/,
      ],
      [
        ['collect-logs', ...machine('app-1'), '--hours', '1', '--category', 'ArcAgent'],
        /--container-sas-file: received nothing\. Give the path of a file/,
      ],
      [
        ['collect-logs', ...machine('app-1'), '--container-sas-file', sasUrl(), '--hours', '1', '--category', 'ArcAgent'],
        /--container-sas-file: received "<a URL, not shown>"\. Give the path of a file holding the SAS, never the SAS itself/,
      ],
      [[...base(path.join(cli.folder, 'missing.txt')), '--hours', '1', '--category', 'ArcAgent'], /The file cannot be read \(ENOENT\)/],
    ];
    const files: Array<[string, string, RegExp, number?]> = [
      ['readable.txt', sasUrl(), /The file is readable or writable by other users \(mode 644\).*Fix: chmod 600/, 0o644],
      ['two-lines.txt', `${sasUrl()}\n${sasUrl()}\n`, /The file holds 2 non-empty lines; it must hold the container SAS URL alone/],
      [
        'read-too.txt',
        sasUrl({ sp: 'rcw' }),
        /The SAS in the file: sasUrl has sp=rcw: the upload SAS must allow write and create only \(sp=cw\), not r\./,
      ],
      ['blob.txt', sasUrl({ sr: 'b' }), /sasUrl has sr=b: it must be a container SAS \(sr=c\)/],
      ['expired.txt', sasUrl({ se: '2020-01-01T00:00:00Z' }), /sasUrl expired or expires too soon \(se=2020-01-01T00:00:00Z/],
      ['http.txt', sasUrl({}, 'http://contosologs.blob.core.windows.net/support-logs'), /uses http: the upload goes over https only/],
      ['host.txt', sasUrl({}, 'https://logs.example.com/support-logs'), /host 'logs\.example\.com' is not an Azure Storage blob endpoint/],
      [
        'emulator.txt',
        sasUrl({ spr: 'https,http' }, 'http://127.0.0.1:10000/devstoreaccount1/support-logs'),
        /uses http: the upload goes over https only/,
      ],
    ];
    for (const [name, content, expected, mode] of files)
      cases.push([[...base(await sasFile(name, content, mode)), '--hours', '1', '--category', 'ArcAgent'], expected]);

    const writes = cli.emulator.counters.writes;
    for (const [argv, expected] of cases) {
      const run = await owner(argv);
      expect({ argv, code: run.code, stderr: run.stderr }).toEqual({ argv, code: 2, stderr: expect.stringMatching(expected) });
      expect(run.stdout).toBe('');
    }
    expect(cli.emulator.counters.writes).toBe(writes);
  });

  it('fails a machine without the extension, naming deploy; refuses a disconnected machine', async () => {
    const file = await sasFile('sas-fleet.txt', sasUrl());
    const run = await owner([
      'collect-logs',
      '--machine',
      'bare-1',
      '--machine',
      'away-1',
      '--resource-group',
      RG,
      '--container-sas-file',
      file,
      '--hours',
      '1',
      '--category',
      'ArcAgent',
      '--output',
      'json',
    ]);
    expect(run.code).toBe(4);
    const rows = JSON.parse(run.stdout).results.map((row: { result: string; detail: string }) => [row.result, row.detail]);
    expect(rows).toEqual([
      [
        'failed',
        expect.stringMatching(/^the extension is not deployed on bare-1\. Fix: deploy it first \(arc-remote-support deploy --machine /),
      ],
      ['failed', expect.stringMatching(/^machine away-1 is Disconnected .*Fix: bring the machine online/)],
    ]);
    expect(cli.writesTo('bare-1')).toBe(0);
    expect(cli.writesTo('away-1')).toBe(0);
  });

  it('shows only redacted protected settings with --what-if, and refuses --resume and --journal', async () => {
    const file = await sasFile('sas-what-if.txt', sasUrl());
    const writes = cli.emulator.counters.writes;
    const run = await owner([
      'collect-logs',
      ...machine('app-1'),
      '--container-sas-file',
      file,
      '--hours',
      '1',
      '--category',
      'ArcAgent',
      '--what-if',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/PATCH [^\n]+\/machines\/app-1\/extensions\/WindowsRemoteSupport\?api-version=/);
    expect(run.stdout).toContain('"protectedSettings": "<redacted>"');
    expect(run.stdout).toContain('"logCollection": {');
    expect(cli.emulator.counters.writes).toBe(writes);

    const resumed = await owner(['collect-logs', '--resume', 'journal.json']);
    expect(resumed.code).toBe(2);
    expect(resumed.stderr).toMatch(/--resume: .*collect-logs keeps no journal/);
    const journal = await owner([
      'collect-logs',
      ...machine('app-1'),
      '--container-sas-file',
      file,
      '--hours',
      '1',
      '--category',
      'ArcAgent',
      '--journal',
      'j.json',
    ]);
    expect(journal.code).toBe(2);
    expect(journal.stderr).toMatch(/--journal: received "j\.json"\. collect-logs keeps no journal/);
    expect(cli.emulator.counters.writes).toBe(writes);
  });

  it('a later write does not carry the one-shot request over (its SAS is not sent again)', async () => {
    expect(settingsOf('app-1').logCollection).toBeDefined();
    const revoked = await owner(['revoke', ...machine('app-1')]);
    expect(revoked.code).toBe(0);
    expect(lastRun('app-1').properties.settings).not.toHaveProperty('logCollection');
    expect(lastRun('app-1').properties.settings).toMatchObject({ access: { level: 'None' } });
    const status = await owner(['status', ...machine('app-1'), '--output', 'json']);
    expect(JSON.parse(status.stdout).machines[0]).not.toHaveProperty('logCollection');
  });
});

describe('grant --log-container-sas-file', () => {
  const grant = (extra: string[]) =>
    owner([
      'grant',
      ...machine('app-1'),
      '--level',
      'Diagnostics',
      '--duration',
      '2h',
      '--support-request',
      'TKT-7',
      '--accept-terms',
      ...extra,
    ]);

  it("adds the grant's upload container to protected settings, and nothing without the flag", async () => {
    const sas = sasUrl();
    const withFlag = await grant(['--log-container-sas-file', await sasFile('grant-sas.txt', sas)]);
    expect(withFlag.code).toBe(0);
    expect(lastRun('app-1').properties.protectedSettings).toEqual({ logUpload: { containerSas: sas } });
    expect(lastRun('app-1').properties.settings).not.toHaveProperty('logUpload');

    const without = await grant([]);
    expect(without.code).toBe(0);
    expect(lastRun('app-1').properties).not.toHaveProperty('protectedSettings');
  });

  it('refuses a SAS that may read before asking Azure anything', async () => {
    const writes = cli.emulator.counters.writes;
    const refused = await grant(['--log-container-sas-file', await sasFile('grant-read.txt', sasUrl({ sp: 'racw' }))]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--log-container-sas-file: received ".*grant-read\.txt"\. The SAS in the file: sasUrl has sp=racw/);
    expect(cli.emulator.counters.writes).toBe(writes);
  });
});

describe('status --refresh', () => {
  const uploaded = (requestId: string): LogCollectionRecord => ({
    collectionId: requestId,
    trigger: 'owner',
    requestedBy: 'owner',
    requestedAt: '2026-12-06T10:00:00Z',
    window: { from: '2026-12-06T08:00:00Z', to: '2026-12-06T09:59:00Z' },
    categories: ['ArcAgent'],
    includeSecurityLog: false,
    grantId: null,
    supportRequestId: null,
    consent: 'owner request',
    startedAt: '2026-12-06T10:00:30Z',
    endedAt: '2026-12-06T10:01:10Z',
    outcome: 'uploaded',
    detail: 'uploaded 12 file(s)',
    container: 'contosologs/support-logs',
    blobName: `app-1/20261206T100110Z-${requestId}.zip`,
    bundleBytes: 4096,
    fileCount: 12,
    skippedCount: 0,
    bundleSha256: 'ab'.repeat(32),
  });

  it('runs the handler again with the public settings only and shows how the collection ended', async () => {
    const file = await sasFile('refresh-sas.txt', `${sasUrl()}\n`);
    const asked = await owner([
      'collect-logs',
      ...machine('app-1'),
      '--container-sas-file',
      file,
      '--hours',
      '1',
      '--category',
      'ArcAgent',
      '--output',
      'json',
    ]);
    expect(asked.code).toBe(0);
    const requestId = UUID.exec(JSON.parse(asked.stdout).results[0].detail)![0];
    // The agent uploaded it since; Azure still has what the handler said when it took the request.
    nodeLastCollection = serializeLogCollectionRecord(uploaded(requestId));
    const stale = JSON.parse((await owner(['status', ...machine('app-1'), '--output', 'json'])).stdout).machines[0];
    expect(stale.logCollection).toMatchObject({ requestId, state: 'requested' });
    const before = settingsOf('app-1');
    const tagBefore = stored('app-1')!.properties.forceUpdateTag;

    const refreshed = await owner(['status', ...machine('app-1'), '--refresh', '--output', 'json']);
    expect(refreshed.code).toBe(0);
    const sent = lastRun('app-1').properties;
    const { logCollection: _oneShot, ...kept } = before;
    expect(sent.settings).toEqual(kept);
    expect(sent).not.toHaveProperty('protectedSettings');
    expect(sent.forceUpdateTag).toEqual(expect.any(String));
    expect(sent.forceUpdateTag).not.toBe(tagBefore);
    const shown = JSON.parse(refreshed.stdout).machines[0];
    expect(shown.logCollection).toEqual({
      requestId,
      state: 'uploaded',
      endedAt: '2026-12-06T10:01:10Z',
      blob: `contosologs/support-logs/app-1/20261206T100110Z-${requestId}.zip`,
      detail: `Last log collection ${requestId} uploaded at 2026-12-06T10:01:10Z to contosologs/support-logs/app-1/20261206T100110Z-${requestId}.zip.`,
    });
    expect(shown.nodes[0].message).toContain(`last log collection ${requestId} uploaded`);

    // A failed one: its reason, quoted as the node recorded it.
    nodeLastCollection = serializeLogCollectionRecord({
      ...uploaded(requestId),
      outcome: 'failed',
      container: null,
      blobName: null,
      detail: 'the container SAS expired at 2026-12-06T10:00:00Z: make a new one.',
    });
    const failed = JSON.parse((await owner(['status', ...machine('app-1'), '--refresh', '--output', 'json'])).stdout).machines[0];
    expect(failed.logCollection).toMatchObject({
      requestId,
      state: 'failed',
      endedAt: '2026-12-06T10:01:10Z',
      reason: 'the container SAS expired at 2026-12-06T10:00:00Z: make a new one',
    });
    nodeLastCollection = null;
  });

  it('names a machine that is not connected or has no extension, and writes nothing', async () => {
    const writes = cli.emulator.counters.writes;
    const away = await owner(['status', ...machine('away-1'), '--refresh', '--output', 'json']);
    expect(away.code).not.toBe(0);
    expect(JSON.parse(away.stdout).results[0].detail).toMatch(/^machine away-1 is Disconnected \(Azure Arc agent status\)/);
    const bare = await owner(['status', ...machine('bare-1'), '--refresh', '--output', 'json']);
    expect(bare.code).not.toBe(0);
    expect(JSON.parse(bare.stdout).results[0].detail).toMatch(/^the extension is not deployed on bare-1\. Fix: deploy it first/);
    expect(cli.emulator.counters.writes).toBe(writes);
  });
});

describe('the traffic', () => {
  it('matches the HybridCompute API document', async () => {
    expect(await cli.emulator.validateTraffic()).toEqual([]);
  });
});
