/**
 * PowerShellHost with the real pwsh: HostBridge.ps1 and its module run unchanged against the
 * stand-in Windows commands (test/powershell/WindowsStandIn.psm1) over a machine model file, and
 * fake entry scripts break the protocol in each way the host must survive.
 */
import { existsSync, promises as fs, readFileSync } from 'fs';
import * as path from 'path';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { EXPORTED_LOGS_FOLDER, OPERATION_NAMES, hostSecret, op, type OperationRequest } from '../../windows/operations';
import { HostBatchError, type OperationOutcome } from '../../windows/port';
import { PowerShellHost } from '../../windows/powershell-host';
import type { MachineModel, NodeModel } from '../../sim/windows/machine-model';
import { createDefaultNode } from '../../sim/windows/default-machine';
import { findPwsh, makeTempDir } from '../support/cms';
import { parsePowerShellFiles } from '../support/powershell-parse';

const repo = path.resolve(__dirname, '..', '..');
const scriptsDir = path.join(repo, 'windows', 'powershell');
const standInEntry = path.join(repo, 'test', 'powershell', 'Invoke-BridgeWithStandIn.ps1');
const pwsh = findPwsh();

const NOW = '2026-03-02T09:30:00.000Z';
const WINDOW_QUERY = "*[System[TimeCreated[@SystemTime>='2026-03-02T09:00:00.000Z' and @SystemTime<='2026-03-02T09:30:00.000Z']]]";
const FOLDER = 'C:\\ProgramData\\ArcRemoteSupport';
const ENDPOINT = 'ArcRemoteSupport';
const PSSC_PATH = `${FOLDER}\\${ENDPOINT}.pssc`;
const PSSC = "@{ SchemaVersion = '2.0.0.0'; SessionType = 'RestrictedRemoteServer'; RunAsVirtualAccount = $true }\r\n";
const TASK_XML =
  '<?xml version="1.0" encoding="UTF-16"?>\r\n<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">' +
  '<Settings><Enabled>true</Enabled><StartWhenAvailable>true</StartWhenAvailable></Settings>' +
  '<Actions><Exec><Command>cmd.exe</Command></Exec></Actions></Task>';

/** A default node with the differences this suite tests, e.g. Server Core with 8 GiB and SA. */
function makeNode(overrides: Partial<NodeModel> = {}): NodeModel {
  const node = createDefaultNode('node1');
  node.os.installationType = 'Server Core';
  node.memory = { moduleBytes: [4294967296, 4294967296], usableBytes: 8455716864 };
  node.arc = {
    status: 'Connected',
    resourceId: '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/node1',
    agentVersion: '1.50.02875.1000',
  };
  node.azure = { managedIdentityCanReadMachine: true, softwareAssuranceCustomer: true, productType: null, subscriptionStatus: null };
  delete node.clusterState;
  return { ...node, ...overrides };
}

/** A four-node cluster: NODE1 runs the handler; NODE2 answers; NODE3 is off; NODE4 refuses us. */
function makeModel(): MachineModel {
  return {
    schemaVersion: 1,
    clock: { nowUtc: NOW },
    localNode: 'NODE1',
    cluster: { name: 'CLUSTER1' },
    nodes: {
      NODE1: makeNode({
        sessionConfigurations: { [ENDPOINT.toLowerCase()]: { name: ENDPOINT, configFilePath: PSSC_PATH } },
        sessions: [
          { id: 'A1B2', configurationName: ENDPOINT, user: 'CONTOSO\\engineer1', startedAtUtc: '2026-03-02T09:00:00.000Z' },
          { id: 'C3D4', configurationName: ENDPOINT, user: 'CONTOSO\\engineer2', startedAtUtc: '2026-03-02T09:10:00.000Z' },
          { id: 'E5F6', configurationName: 'Microsoft.PowerShell', user: 'CONTOSO\\admin', startedAtUtc: '2026-03-02T08:00:00.000Z' },
        ],
      }),
      NODE2: makeNode({ clusterState: 'Paused', arc: { status: 'Disconnected', resourceId: null, agentVersion: '1.49.0' } }),
      NODE3: makeNode({ power: 'Off' }),
      NODE4: makeNode({ remoteAccess: 'Denied' }),
    },
    faults: [],
  };
}

interface Fixture {
  host: PowerShellHost;
  root: string;
  dir: string;
  readModel(): MachineModel;
}

const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function setup(model: MachineModel = makeModel(), env: Record<string, string> = {}): Promise<Fixture> {
  const dir = await makeTempDir('powershell-host');
  tempDirs.push(dir);
  const modelPath = path.join(dir, 'model.json');
  const root = path.join(dir, 'machines');
  await fs.mkdir(root);
  await fs.writeFile(modelPath, JSON.stringify(model, null, 2));
  const host = new PowerShellHost({
    powershellExe: pwsh,
    scriptsDir,
    entryScript: standInEntry,
    env: { ARS_MACHINE_MODEL: modelPath, ARS_MACHINE_ROOT: root, ...env },
  });
  return { host, root, dir, readModel: () => JSON.parse(readFileSync(modelPath, 'utf8')) as MachineModel };
}

function values(outcomes: OperationOutcome[]): unknown[] {
  return outcomes.map((o) => (o.ok ? o.value : o.error));
}

function utf16leWithBom(text: string): string {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]).toString('base64');
}

describe('PowerShellHost with the stand-in Windows', () => {
  test('one batch runs every operation type, in one PowerShell process', async () => {
    const { host, readModel, root } = await setup();
    const state = '{"grant":"é","n":1}\n';
    // A file of the machine running the handler, as the package's agent.js would be.
    const agentSource = path.join(root, 'agent-source.js');
    await fs.writeFile(agentSource, 'console.log("agent");\n');
    const batch: OperationRequest[] = [
      op('probe', {}),
      op('ensureDirectory', { path: FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('writeFile', { path: `${FOLDER}\\state.json`, content: state, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('readFile', { path: `${FOLDER}\\state.json` }),
      op('writeFile', { path: `${FOLDER}\\Expire.xml`, content: utf16leWithBom(TASK_XML), encoding: 'base64' }),
      op('readFile', { path: `${FOLDER}\\Expire.xml`, encoding: 'base64' }),
      op('getPath', { path: FOLDER }),
      op('getPath', { path: `${FOLDER}\\missing.txt` }),
      op('listDirectory', { path: FOLDER }),
      op('writeFile', { path: PSSC_PATH, content: PSSC }),
      op('ensureLocalGroup', { name: 'ArcRemoteSupport Diagnostics', description: 'Support engineers (read-only)' }),
      op('setLocalGroupMembers', { name: 'ArcRemoteSupport Diagnostics', members: ['CONTOSO\\alice', 'CONTOSO\\bob'] }),
      op('getLocalGroup', { name: 'ArcRemoteSupport Diagnostics' }),
      op('ensureLocalUser', { name: 'ArcRS-3f2b8c1e', description: 'Arc remote support' }),
      op('listLocalUsers', { prefix: 'ArcRS-' }),
      op('removeLocalUser', { name: 'ArcRS-3f2b8c1e' }),
      op('endChannelSessionProcesses', { scriptName: 'ChannelSession.ps1' }),
      op('listSessions', { configurationName: ENDPOINT }),
      op('endSessions', { configurationName: ENDPOINT }),
      op('getSessionConfiguration', { name: ENDPOINT }),
      op('registerSessionConfiguration', { name: ENDPOINT, path: PSSC_PATH }),
      op('unregisterSessionConfiguration', { name: ENDPOINT }),
      op('registerSessionConfiguration', { name: ENDPOINT, path: PSSC_PATH }),
      op('registerTask', { folder: '\\ArcRemoteSupport', name: 'Expire-g1', xml: TASK_XML }),
      op('getTask', { folder: '\\ArcRemoteSupport', name: 'Expire-g1' }),
      op('setTaskEnabled', { folder: '\\ArcRemoteSupport', name: 'Expire-g1', enabled: false }),
      op('listTasks', { folder: '\\ArcRemoteSupport' }),
      op('deleteTask', { folder: '\\ArcRemoteSupport', name: 'Expire-g1' }),
      op('writeEvent', {
        source: 'ArcRemoteSupport',
        eventId: 1001,
        level: 'Warning',
        message: 'Access granted until 2026-03-03T09:30:00Z',
      }),
      op('readEvents', { source: 'ArcRemoteSupport' }),
      op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
      op('exportEventLog', { channel: 'Application', query: WINDOW_QUERY, path: `${EXPORTED_LOGS_FOLDER}\\event-application.evtx` }),
      op('writeGeneratedLog', { producer: 'windowsUpdateLog', sinceUtc: NOW, path: `${EXPORTED_LOGS_FOLDER}\\windows-update-log.log` }),
      op('removeLocalGroup', { name: 'ArcRemoteSupport Diagnostics' }),
      op('removePath', { path: `${FOLDER}\\Expire.xml` }),
      op('copyFromHandler', { source: agentSource, path: `${FOLDER}\\agent.js` }),
      op('writeSecretFile', { path: `${FOLDER}\\relay.token`, secret: hostSecret('sig=é"\\') }),
      op('readSecretFile', { path: `${FOLDER}\\relay.token` }),
    ];
    expect(new Set(batch.map((o) => o.op))).toEqual(new Set(OPERATION_NAMES));
    const exportedEvent = `${JSON.stringify({
      channel: 'Application',
      timeCreated: NOW,
      provider: 'ArcRemoteSupport',
      eventId: 1001,
      level: 'Warning',
      message: 'Access granted until 2026-03-03T09:30:00Z',
    })}\n`;

    const outcomes = await host.execute(batch, { phase: 'test: every operation' });

    expect(host.launches).toBe(1);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(values(outcomes)).toEqual([
      {
        computerName: 'NODE1',
        os: { caption: 'Microsoft Windows Server 2022 Datacenter', buildNumber: 20348, productType: 3, installationType: 'Server Core' },
        memory: { installedBytes: 8589934592, usableBytes: 8455716864 },
        arc: {
          status: 'Connected',
          resourceId: '/subscriptions/0000/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/node1',
          agentVersion: '1.50.02875.1000',
        },
        cluster: {
          name: 'CLUSTER1',
          nodes: [
            { name: 'NODE1', state: 'Up' },
            { name: 'NODE2', state: 'Paused' },
            { name: 'NODE3', state: 'Down' },
            { name: 'NODE4', state: 'Up' },
          ],
        },
      },
      { created: true },
      { changed: true },
      { exists: true, content: state },
      { changed: true },
      { exists: true, content: utf16leWithBom(TASK_XML) },
      { exists: true, type: 'directory', sddl: SYSTEM_AND_ADMINISTRATORS_ONLY },
      { exists: false, type: null, sddl: null },
      {
        exists: true,
        entries: [
          { name: 'Expire.xml', type: 'file', lastWriteTimeUtc: expect.stringMatching(/Z$/) },
          { name: 'state.json', type: 'file', lastWriteTimeUtc: expect.stringMatching(/Z$/) },
        ],
      },
      { changed: true },
      { created: true },
      { added: ['CONTOSO\\alice', 'CONTOSO\\bob'], removed: [] },
      { exists: true, members: ['CONTOSO\\alice', 'CONTOSO\\bob'] },
      { created: true },
      { names: ['ArcRS-3f2b8c1e'] },
      { removed: true },
      { ended: [] },
      {
        sessions: [
          { id: 'A1B2', user: 'CONTOSO\\engineer1', startedAtUtc: expect.stringMatching(/^2026-03-02T09:00:0\d\.000Z$/) },
          { id: 'C3D4', user: 'CONTOSO\\engineer2', startedAtUtc: expect.stringMatching(/^2026-03-02T09:10:0\d\.000Z$/) },
        ],
      },
      { ended: 2 },
      { exists: true, configFilePath: PSSC_PATH },
      // An existing endpoint is replaced: each registration restarts WinRM.
      { registered: true },
      { removed: true },
      { registered: true },
      { replaced: false },
      { exists: true, state: 'Ready', enabled: true, xml: TASK_XML },
      { changed: true },
      { names: ['Expire-g1'] },
      { removed: true },
      { written: true },
      { events: [{ eventId: 1001, level: 'Warning', message: 'Access granted until 2026-03-03T09:30:00Z', timeUtc: NOW }] },
      { created: true },
      { present: true, size: Buffer.byteLength(exportedEvent) },
      { present: true, size: Buffer.byteLength('stand-in Windows Update log\r\n') },
      { removed: true },
      { removed: true },
      { copied: true },
      { written: true },
      { secret: 'sig=é"\\' },
    ]);

    // Files are real, on the node's C: drive; the model holds their SDDL and Windows' other state.
    const c = path.join(root, 'NODE1', 'C', 'ProgramData', 'ArcRemoteSupport');
    expect(readFileSync(path.join(c, 'state.json'), 'utf8')).toBe(state);
    // The stand-in wevtutil's export of the Application log: the event just written.
    expect(readFileSync(path.join(c, 'LogStaging', 'Exports', 'event-application.evtx'), 'utf8')).toBe(exportedEvent);
    expect(existsSync(path.join(c, 'Expire.xml'))).toBe(false);
    const node = readModel().nodes['NODE1'];
    expect(node?.files['c:\\programdata\\arcremotesupport\\state.json']?.sddl).toBe(SYSTEM_AND_ADMINISTRATORS_ONLY);
    expect(node?.winrmRestarts).toBe(3);
    // A WinRM restart drops every session, the built-in endpoint's too.
    expect(node?.sessions).toEqual([]);
    expect(node?.groups).toEqual({});
    expect(node?.users).toEqual({});
    expect(node?.tasks).toEqual({});
    expect(node?.eventSources).toEqual(['ArcRemoteSupport']);
  });

  test('operations are idempotent and each execute() is one launch', async () => {
    const { host, readModel } = await setup();
    const batch: OperationRequest[] = [
      op('ensureDirectory', { path: FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('writeFile', { path: PSSC_PATH, content: PSSC, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('ensureLocalGroup', { name: 'ArcRemoteSupport Repair', description: 'Support engineers (repair)' }),
      op('setLocalGroupMembers', { name: 'ArcRemoteSupport Repair', members: ['CONTOSO\\alice'] }),
      op('registerSessionConfiguration', { name: ENDPOINT, path: PSSC_PATH }),
      op('registerTask', { folder: '\\ArcRemoteSupport', name: 'Reconcile', xml: TASK_XML }),
      op('setTaskEnabled', { folder: '\\ArcRemoteSupport', name: 'Reconcile', enabled: true }),
    ];
    const first = await host.execute(batch, { phase: 'install' });
    const second = await host.execute(batch, { phase: 'install again' });
    expect(await host.execute([], { phase: 'nothing' })).toEqual([]);

    expect(host.launches).toBe(2);
    expect(values(first)).toEqual([
      { created: true },
      { changed: true },
      { created: true },
      { added: ['CONTOSO\\alice'], removed: [] },
      { registered: true },
      { replaced: false },
      { changed: false },
    ]);
    expect(values(second)).toEqual([
      { created: false },
      { changed: false },
      { created: false },
      { added: [], removed: [] },
      { registered: true },
      { replaced: true },
      { changed: false },
    ]);
    // Registering replaces the endpoint every time (the handler asks getSessionConfiguration first).
    expect(readModel().nodes['NODE1']?.winrmRestarts).toBe(2);

    // Membership converges to exactly the list: names compare without case, as on Windows.
    const third = await host.execute(
      [
        op('setLocalGroupMembers', { name: 'ArcRemoteSupport Repair', members: ['contoso\\ALICE', 'CONTOSO\\carol'] }),
        op('deleteTask', { folder: '\\ArcRemoteSupport', name: 'Reconcile' }),
        op('deleteTask', { folder: '\\ArcRemoteSupport', name: 'Reconcile' }),
        op('removePath', { path: `${FOLDER}\\nothing-here` }),
      ],
      { phase: 'configure' },
    );
    expect(values(third)).toEqual([{ added: ['CONTOSO\\carol'], removed: [] }, { removed: true }, { removed: false }, { removed: false }]);
    expect(host.launches).toBe(3);
  });

  test('a batch for another node runs there, through Invoke-Command', async () => {
    const { host, root } = await setup();
    const outcomes = await host.execute(
      [op('probe', {}), op('ensureDirectory', { path: FOLDER }), op('writeFile', { path: `${FOLDER}\\peer.txt`, content: 'peer' })],
      { phase: 'peer install', node: 'NODE2' },
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    const probe = outcomes[0]?.ok ? (outcomes[0].value as { computerName: string; arc: unknown }) : undefined;
    expect(probe?.computerName).toBe('NODE2');
    expect(probe?.arc).toEqual({ status: 'Disconnected', resourceId: null, agentVersion: '1.49.0' });
    expect(readFileSync(path.join(root, 'NODE2', 'C', 'ProgramData', 'ArcRemoteSupport', 'peer.txt'), 'utf8')).toBe('peer');
    expect(existsSync(path.join(root, 'NODE1', 'C', 'ProgramData', 'ArcRemoteSupport', 'peer.txt'))).toBe(false);
    expect(host.launches).toBe(1);
  });

  test('copyFromHandler to another node sends the file with Copy-Item -ToSession, only when its bytes differ there', async () => {
    const work = await makeTempDir('powershell-host-copy');
    tempDirs.push(work);
    const copyLog = path.join(work, 'copies.log');
    const { host, root } = await setup(makeModel(), { ARS_STANDIN_COPY_LOG: copyLog });
    const source = path.join(work, 'agent.js');
    await fs.writeFile(source, 'agent version 1\n');
    const agentFolder = 'C:\\Program Files\\ArcRemoteSupport';
    const batch = [op('ensureDirectory', { path: agentFolder }), op('copyFromHandler', { source, path: `${agentFolder}\\agent.js` })];
    const sent = () =>
      fs.readFile(copyLog, 'utf8').then(
        (text) => text.trim().split('\n'),
        () => [],
      );
    const onPeer = path.join(root, 'NODE2', 'C', 'Program Files', 'ArcRemoteSupport', 'agent.js');
    const staging = () =>
      fs.readdir(path.join(root, 'NODE2', 'C', 'Windows', 'Temp')).then(
        (names) => names.filter((name) => name.startsWith('ArcRemoteSupport-')),
        () => [],
      );

    expect(values(await host.execute(batch, { phase: 'peer install', node: 'NODE2' }))).toEqual([{ created: true }, { copied: true }]);
    expect(readFileSync(onPeer, 'utf8')).toBe('agent version 1\n');
    expect(existsSync(path.join(root, 'NODE1', 'C', 'Program Files', 'ArcRemoteSupport', 'agent.js'))).toBe(false);
    expect(await sent()).toEqual([expect.stringMatching(/^NODE2 C:\\Windows\\Temp\\ArcRemoteSupport-[0-9a-f]{32}\\1\.bin$/)]);
    expect(await staging()).toEqual([]);

    // The same bytes are already there: nothing crosses the network.
    expect(values(await host.execute(batch, { phase: 'peer install', node: 'NODE2' }))).toEqual([{ created: false }, { copied: false }]);
    expect(await sent()).toHaveLength(1);

    await fs.writeFile(source, 'agent version 2\n');
    expect(values(await host.execute(batch, { phase: 'peer update', node: 'NODE2' }))).toEqual([{ created: false }, { copied: true }]);
    expect(readFileSync(onPeer, 'utf8')).toBe('agent version 2\n');
    expect(await sent()).toHaveLength(2);

    const missing = await host.execute([op('copyFromHandler', { source: path.join(work, 'nothing.js'), path: `${agentFolder}\\x.js` })], {
      phase: 'peer install',
      node: 'NODE2',
    });
    expect(missing[0]).toMatchObject({ ok: false, error: { code: 'NotFound', message: expect.stringContaining('nothing.js') } });
  });

  test('a staged copy whose SHA-256 is not the one sent is not used', async () => {
    const { host, dir } = await setup();
    const source = path.join(dir, 'agent.js');
    await fs.writeFile(source, 'changed on the way\n');
    const staged = { ...op('copyFromHandler', { source, path: `${FOLDER}\\agent.js` }), sha256: 'A'.repeat(64) } as OperationRequest;
    const [outcome] = await host
      .execute([op('ensureDirectory', { path: FOLDER }), staged], { phase: 'peer install' })
      .then((all) => all.slice(1));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'Failed', message: expect.stringMatching(/changed before it was used/) } });
    expect(existsSync(path.join(dir, 'machines', 'NODE1', 'C', 'ProgramData', 'ArcRemoteSupport', 'agent.js'))).toBe(false);
  });

  const everyKind: OperationRequest[] = [
    op('probe', {}),
    op('writeFile', { path: `${FOLDER}\\x.txt`, content: 'x' }),
    op('setLocalGroupMembers', { name: 'G', members: [] }),
    op('endSessions', { configurationName: ENDPOINT }),
    op('registerTask', { folder: '\\ArcRemoteSupport', name: 'Reconcile', xml: TASK_XML }),
    op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1, level: 'Information', message: 'm' }),
  ];

  test.each([
    ['NODE3', 'NodeUnreachable', /WinRM cannot complete the operation/],
    ['NODE4', 'AccessDenied', /Access is denied/],
  ] as const)('a batch for %s fails every operation with %s', async (node, code, message) => {
    const { host } = await setup();
    const outcomes = await host.execute(everyKind, { phase: 'peer install', node, stopOnError: true });
    expect(outcomes).toHaveLength(everyKind.length);
    outcomes.forEach((o, i) => {
      expect(o.ok).toBe(false);
      if (o.ok) return;
      expect(o.error.operation).toBe(everyKind[i]?.op);
      expect(o.error.code).toBe(code);
      expect(o.error.message).toMatch(message);
      expect(o.error.message).toContain(node);
    });
    expect(outcomes.map((o) => (o.ok ? null : o.error.target))).toEqual([
      null,
      `${FOLDER}\\x.txt`,
      'G',
      ENDPOINT,
      '\\ArcRemoteSupport\\Reconcile',
      'ArcRemoteSupport',
    ]);
  });

  test('after a failure, stopOnError skips the rest; without it, the rest runs', async () => {
    const { host, readModel } = await setup();
    const batch: OperationRequest[] = [
      op('ensureLocalGroup', { name: 'G1', description: 'd' }),
      op('setLocalGroupMembers', { name: 'Missing', members: ['CONTOSO\\alice'] }),
      op('ensureLocalGroup', { name: 'G2', description: 'd' }),
      op('setTaskEnabled', { folder: '\\ArcRemoteSupport', name: 'Nope', enabled: true }),
    ];
    const stopped = await host.execute(batch, { phase: 'stop' });
    expect(values(stopped)).toEqual([
      { created: true },
      { operation: 'setLocalGroupMembers', code: 'NotFound', message: "The local group 'Missing' does not exist.", target: 'Missing' },
      {
        operation: 'ensureLocalGroup',
        code: 'Skipped',
        message: expect.stringContaining('operation 1 (setLocalGroupMembers) failed'),
        target: 'G2',
      },
      { operation: 'setTaskEnabled', code: 'Skipped', message: expect.any(String), target: '\\ArcRemoteSupport\\Nope' },
    ]);
    expect(Object.keys(readModel().nodes['NODE1']?.groups ?? {})).toEqual(['g1']);

    const all = await host.execute(batch, { phase: 'go on', stopOnError: false });
    expect(values(all)).toEqual([
      { created: false },
      expect.objectContaining({ code: 'NotFound' }),
      { created: true },
      expect.objectContaining({ operation: 'setTaskEnabled', code: 'NotFound', target: '\\ArcRemoteSupport\\Nope' }),
    ]);
  });

  test('bad requests are InvalidRequest, never a Windows failure', async () => {
    const { host } = await setup();
    const bad = [
      { op: 'formatDisk' },
      { op: 'writeFile', path: `${FOLDER}\\a.txt` },
      { op: 'readFile', path: 'relative\\a.txt' },
      { op: 'writeEvent', source: 'S', eventId: 1, level: 'Verbose', message: 'm' },
      { op: 'unregisterSessionConfiguration', name: 'Microsoft.PowerShell' },
      { op: 'ensureDirectory', path: FOLDER, sddl: 'not sddl' },
    ] as unknown as OperationRequest[];
    const outcomes = await host.execute(bad, { phase: 'bad', stopOnError: false });
    expect(outcomes.map((o) => (o.ok ? 'ok' : `${o.error.operation}:${o.error.code}`))).toEqual([
      'formatDisk:InvalidRequest',
      'writeFile:InvalidRequest',
      'readFile:InvalidRequest',
      'writeEvent:InvalidRequest',
      'unregisterSessionConfiguration:InvalidRequest',
      'ensureDirectory:InvalidRequest',
    ]);
  });

  test('the Windows rules both hosts share: paths, order, names, task XML', async () => {
    const { host, root } = await setup();
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"bom":true}', 'utf8')]).toString('base64');
    const outcomes = await host.execute(
      [
        op('ensureDirectory', { path: 'C:/ProgramData//ArcRemoteSupport/./logs/../' }),
        op('writeFile', { path: `${FOLDER}\\b.txt`, content: 'b' }),
        op('writeFile', { path: `${FOLDER}\\A.txt`, content: withBom, encoding: 'base64' }),
        op('writeFile', { path: `${FOLDER}\\c`, content: '' }),
        // pwsh 7 would read this JSON string as a date unless told not to.
        op('writeFile', { path: `${FOLDER}\\expires`, content: '2026-03-03T09:30:00Z' }),
        op('readFile', { path: `${FOLDER}\\expires` }),
        op('listDirectory', { path: FOLDER }),
        op('readFile', { path: `${FOLDER}\\A.txt` }),
        op('readFile', { path: FOLDER }),
        op('listDirectory', { path: `${FOLDER}\\b.txt` }),
        op('removePath', { path: 'C:\\' }),
        op('writeFile', { path: `${FOLDER}\\no\\such\\x.txt`, content: 'x' }),
        op('getPath', { path: 'C:\\' }),
        op('ensureLocalGroup', { name: 'Bad[Name]', description: '' }),
        op('ensureLocalGroup', { name: 'G', description: '' }),
        op('setLocalGroupMembers', { name: 'G', members: ['CONTOSO\\zed', 'contoso\\Amy', 'CONTOSO\\bob', 'CONTOSO\\AMY'] }),
        op('getLocalGroup', { name: 'g' }),
        op('registerTask', { folder: 'ArcRemoteSupport\\', name: 'b', xml: TASK_XML }),
        op('registerTask', { folder: '\\ArcRemoteSupport', name: 'A', xml: TASK_XML }),
        op('listTasks', { folder: '\\ArcRemoteSupport\\' }),
        op('registerTask', { folder: '\\ArcRemoteSupport', name: 'Broken', xml: '<Task><unclosed></Task>' }),
        op('registerTask', {
          folder: '\\ArcRemoteSupport',
          name: 'NoActions',
          xml: '<Task xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"/>',
        }),
        op('getTask', { folder: '\\ArcRemoteSupport', name: 'bad:name' }),
      ],
      { phase: 'rules', stopOnError: false },
    );
    expect(outcomes.map((o) => (o.ok ? o.value : { code: o.error.code, target: o.error.target }))).toEqual([
      { created: true },
      { changed: true },
      { changed: true },
      { changed: true },
      { changed: true },
      { exists: true, content: '2026-03-03T09:30:00Z' },
      {
        exists: true,
        entries: [
          { name: 'A.txt', type: 'file', lastWriteTimeUtc: expect.any(String) },
          { name: 'b.txt', type: 'file', lastWriteTimeUtc: expect.any(String) },
          { name: 'c', type: 'file', lastWriteTimeUtc: expect.any(String) },
          { name: 'expires', type: 'file', lastWriteTimeUtc: expect.any(String) },
        ],
      },
      // A byte order mark is dropped, as File.ReadAllText does.
      { exists: true, content: '{"bom":true}' },
      { code: 'Failed', target: FOLDER },
      { code: 'Failed', target: `${FOLDER}\\b.txt` },
      { code: 'InvalidRequest', target: 'C:\\' },
      // The folder that is missing is the target.
      { code: 'NotFound', target: `${FOLDER}\\no\\such` },
      { exists: true, type: 'directory', sddl: 'O:SYG:SYD:AI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)' },
      { code: 'InvalidRequest', target: 'Bad[Name]' },
      { created: true },
      { added: ['contoso\\Amy', 'CONTOSO\\bob', 'CONTOSO\\zed'], removed: [] },
      { exists: true, members: ['contoso\\Amy', 'CONTOSO\\bob', 'CONTOSO\\zed'] },
      { replaced: false },
      { replaced: false },
      { names: ['A', 'b'] },
      { code: 'InvalidRequest', target: '\\ArcRemoteSupport\\Broken' },
      { code: 'InvalidRequest', target: '\\ArcRemoteSupport\\NoActions' },
      { code: 'InvalidRequest', target: '\\ArcRemoteSupport\\bad:name' },
    ]);
    expect(existsSync(path.join(root, 'NODE1', 'C', 'ProgramData', 'ArcRemoteSupport', 'logs'))).toBe(false);
  });

  test('a probe on a node without the Arc agent or a cluster', async () => {
    const model = makeModel();
    model.cluster = null;
    const local = model.nodes['NODE1'];
    if (local) local.arc = { status: 'NotInstalled', resourceId: null, agentVersion: null };
    const { host } = await setup(model);
    const [probe] = await host.execute([op('probe', {})], { phase: 'prerequisites', stopOnError: false });
    expect(probe?.ok && probe.value).toMatchObject({
      arc: { status: 'NotInstalled', resourceId: null, agentVersion: null },
      cluster: null,
    });
  });
});

describe('PowerShellHost batch failures', () => {
  const batch: OperationRequest[] = [
    op('ensureDirectory', { path: FOLDER }),
    op('registerTask', { folder: '\\ArcRemoteSupport', name: 'Reconcile', xml: TASK_XML }),
    op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1, level: 'Information', message: 'm' }),
  ];
  // Every fake answers the first operation, then misbehaves during the second.
  const prelude = [
    "$ErrorActionPreference = 'Stop'",
    '$null = [Console]::In.ReadToEnd()',
    '[Console]::Out.WriteLine(\'{"index":0,"ok":true,"value":{"created":true}}\')',
    '[Console]::Out.Flush()',
  ];
  const rest = [
    '[Console]::Out.WriteLine(\'{"index":1,"ok":true,"value":{"replaced":false}}\')',
    '[Console]::Out.WriteLine(\'{"index":2,"ok":true,"value":{"written":true}}\')',
    '[Console]::Out.WriteLine(\'{"done":true}\')',
    'exit 0',
  ];

  async function fakeHost(name: string, lines: string[], timeoutMs?: number): Promise<{ host: PowerShellHost; dir: string }> {
    const dir = await makeTempDir('powershell-host-fake');
    tempDirs.push(dir);
    const entryScript = path.join(dir, `${name}.ps1`);
    await fs.writeFile(entryScript, [...prelude, ...lines].join('\n'));
    return { host: new PowerShellHost({ powershellExe: pwsh, scriptsDir, entryScript, timeoutMs, env: { FAKE_DIR: dir } }), dir };
  }

  async function batchError(host: PowerShellHost): Promise<HostBatchError> {
    const error = await host.execute(batch, { phase: 'install: tasks' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostBatchError);
    return error as HostBatchError;
  }

  test('a line that is not a result: Garbage, quoting at most 200 characters of it', async () => {
    const noise = 'WARNING: unexpected output ' + 'x'.repeat(500);
    const { host } = await fakeHost('garbage', [`[Console]::Out.WriteLine('${noise}')`, ...rest]);
    const error = await batchError(host);
    expect(error.reason).toBe('Garbage');
    expect(error.operation).toBe('registerTask');
    expect(error.phase).toBe('install: tasks');
    expect(error.message).toContain("at operation 'registerTask'");
    expect(error.message).toContain('WARNING: unexpected output');
    expect(error.message).not.toContain('x'.repeat(201));
  });

  test('an exit in the middle of the batch: ExitCode', async () => {
    const { host } = await fakeHost('exit', [
      "[Console]::Error.WriteLine('Register-ScheduledTask : The task XML is malformed.')",
      'exit 3',
    ]);
    const error = await batchError(host);
    expect(error.reason).toBe('ExitCode');
    expect(error.operation).toBe('registerTask');
    expect(error.message).toMatch(/exited with code 3 \(Register-ScheduledTask : The task XML is malformed\)/);
  });

  test('a clean exit without the end of the batch: ExitCode', async () => {
    const { host } = await fakeHost('short', ['exit 0']);
    const error = await batchError(host);
    expect(error.reason).toBe('ExitCode');
    expect(error.operation).toBe('registerTask');
  });

  test('output on stderr fails the batch even when every result came: Stderr', async () => {
    const { host } = await fakeHost('stderr', [
      'Start-Sleep -Milliseconds 300',
      "[Console]::Error.WriteLine('Get-ScheduledTask : Access is denied.')",
      'Start-Sleep -Milliseconds 300',
      ...rest,
    ]);
    const error = await batchError(host);
    expect(error.reason).toBe('Stderr');
    expect(error.operation).toBe('registerTask');
    expect(error.message).toContain('PowerShell wrote to stderr: Get-ScheduledTask : Access is denied');
  });

  test('progress records that Windows PowerShell serializes to stderr are not errors', async () => {
    const { host } = await fakeHost('progress', [
      "[Console]::Error.WriteLine('#< CLIXML')",
      '[Console]::Error.WriteLine(\'<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN><MS><I64 N="SourceId">1</I64></MS></Obj></Objs>\')',
      ...rest,
    ]);
    await expect(host.execute(batch, { phase: 'install: tasks' })).resolves.toHaveLength(3);
  });

  test('a hang: Timeout, and the whole process tree is killed', async () => {
    const { host, dir } = await fakeHost(
      'hang',
      [
        // A child of its own, as a cmdlet's helper process would be.
        "$child = Start-Process -FilePath 'sleep' -ArgumentList '300' -PassThru",
        'Set-Content -LiteralPath (Join-Path $env:FAKE_DIR \'pids\') -Value "$PID $($child.Id)"',
        'Start-Sleep -Seconds 300',
      ],
      8_000,
    );
    const started = Date.now();
    const error = await batchError(host);
    expect(error.reason).toBe('Timeout');
    expect(error.operation).toBe('registerTask');
    expect(Date.now() - started).toBeLessThan(20_000);
    const pids = readFileSync(path.join(dir, 'pids'), 'utf8').trim().split(/\s+/).map(Number);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(await isGone(pid)).toBe(true);
  });

  test('PowerShell missing: NotStarted, and nothing was launched', async () => {
    const host = new PowerShellHost({ powershellExe: '/nonexistent/powershell.exe', scriptsDir, entryScript: standInEntry });
    const error = await batchError(host);
    expect(error.reason).toBe('NotStarted');
    expect(error.operation).toBeNull();
    expect(host.launches).toBe(0);
  });

  test('the bridge script missing: NotStarted', async () => {
    const host = new PowerShellHost({ powershellExe: pwsh, scriptsDir: '/nonexistent/scripts' });
    const error = await batchError(host);
    expect(error.reason).toBe('NotStarted');
    expect(error.message).toContain('HostBridge.ps1');
  });

  test('the decryptor uses the same PowerShell and the scripts folder', () => {
    const host = new PowerShellHost({ powershellExe: pwsh, scriptsDir });
    expect(host.decryptor()).toMatchObject({ powershellExe: pwsh, scriptPath: path.join(scriptsDir, 'Unprotect-ProtectedSettings.ps1') });
  });
});

/** Gone, or a zombie waiting for a parent that no longer exists to reap it. */
async function isGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('PowerShell scripts of the host port', () => {
  const files = [
    path.join(scriptsDir, 'HostBridge.ps1'),
    path.join(scriptsDir, 'ArcRemoteSupport.Host.psm1'),
    path.join(repo, 'test', 'powershell', 'WindowsStandIn.psm1'),
    path.join(repo, 'test', 'powershell', 'Invoke-BridgeWithStandIn.ps1'),
  ];

  test('parse without errors and use no PowerShell 7-only syntax', async () => {
    const results = await parsePowerShellFiles(pwsh, files);
    expect(results).toEqual(files.map((file) => ({ file, errors: [], ps7Only: [] })));
  });

  test('the check finds PS7-only syntax and parse errors', async () => {
    const dir = await makeTempDir('powershell-parse');
    tempDirs.push(dir);
    const modern = path.join(dir, 'modern.ps1');
    const broken = path.join(dir, 'broken.ps1');
    // `$e?.f` would be a variable named "e?": PowerShell 7 needs braces for the null-conditional.
    await fs.writeFile(modern, '$a = $b ?? 1\n$c = $d ? 1 : 2\nGet-Item x && Get-Item y\n"$(${e}?.f)"\n$g ??= 3\n${h}?[0]\n');
    await fs.writeFile(broken, 'function f {\n');
    const [m, b] = await parsePowerShellFiles(pwsh, [modern, broken]);
    expect(m?.errors).toEqual([]);
    expect(m?.ps7Only.map((t) => t.split(' ')[0])).toEqual([
      'QuestionQuestion',
      'QuestionMark',
      'AndAnd',
      'QuestionDot',
      'QuestionQuestionEquals',
      'QuestionLBracket',
    ]);
    expect(b?.errors.length).toBeGreaterThan(0);
  });
});
