/**
 * The simulated Windows host: every operation's semantics on the JSON machine model, reachability
 * of peers, stopOnError, injected faults (fail, and kill both observed and for real in a child
 * process), several processes sharing one machine, and the node's certificate store.
 */
import { promises as fs } from 'fs';
import path from 'path';
import execa from 'execa';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op, type OperationRequest } from '../../windows/operations';
import type { OperationOutcome } from '../../windows/port';
import { HostBatchError } from '../../windows/port';
import { createDefaultMachine, createDefaultNode, readMachine, updateMachine, writeMachine } from '../../sim/windows/default-machine';
import { DEFAULT_VOLUME_SDDL } from '../../sim/windows/file-system';
import type { Fault, MachineModel } from '../../sim/windows/machine-model';
import { SimulatedHost, SimulatedKillError } from '../../sim/windows/simulated-host';
import { createTestCertificate, encryptToCms } from '../../sim/arm/protected-settings-cms';
import { makeTempDir } from '../support/cms';

/** The folders the default machine has before anything runs. */
const BUILT_IN_FOLDERS = new Set(Object.keys(createDefaultNode('X').files));

const REPO = path.resolve(__dirname, '..', '..');
const HOST_MODULE = path.join(REPO, 'sim', 'windows', 'simulated-host');

/** Runs CommonJS `code` in a plain node process that loads our TypeScript through tsx (no wrapper process). */
function runNode(code: string) {
  return execa(process.execPath, ['--require', 'tsx/cjs', '-e', code], { cwd: REPO, reject: false });
}
const NOW = '2026-11-24T20:00:00Z';
const BASE = 'C:\\ProgramData\\ArcRemoteSupport';
const TASK_NS = 'http://schemas.microsoft.com/windows/2004/02/mit/task';
const TASK_XML = `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="${TASK_NS}">
  <Triggers><BootTrigger/></Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId></Principal></Principals>
  <Settings><Enabled>true</Enabled></Settings>
  <Actions Context="Author"><Exec><Command>C:\\agent\\node.exe</Command><Arguments>agent.js reconcile</Arguments></Exec></Actions>
</Task>`;

let work: string;
let modelPath: string;
let host: SimulatedHost;

async function machine(change?: (model: MachineModel) => void): Promise<void> {
  const model = createDefaultMachine({ nowUtc: NOW });
  change?.(model);
  await writeMachine(modelPath, model);
}

/** Values of a batch that must succeed. */
async function values(operations: OperationRequest[], node?: string): Promise<unknown[]> {
  const outcomes = await host.execute(operations, { phase: 'test', node });
  return outcomes.map((outcome) => {
    if (!outcome.ok) throw new Error(`${outcome.error.operation} failed: ${outcome.error.code} ${outcome.error.message}`);
    return outcome.value;
  });
}

/** One operation's outcome. */
async function one(operation: OperationRequest, node?: string): Promise<OperationOutcome> {
  const [outcome] = await host.execute([operation], { phase: 'test', node });
  return outcome!;
}

const codes = (outcomes: OperationOutcome[]) => outcomes.map((outcome) => (outcome.ok ? 'ok' : outcome.error.code));

beforeEach(async () => {
  work = await makeTempDir('ars-simhost');
  modelPath = path.join(work, 'machine.json');
  await machine();
  host = new SimulatedHost(modelPath);
});
afterEach(() => fs.rm(work, { recursive: true, force: true }));

describe('probe', () => {
  it('reports the node from the model, with the cluster and a powered-off node Down', async () => {
    await machine((model) => {
      model.nodes['ARC-NODE-2']!.power = 'Off';
    });
    const [probe] = await values([op('probe', {})]);
    expect(probe).toEqual({
      computerName: 'ARC-NODE-1',
      os: { caption: 'Microsoft Windows Server 2022 Datacenter', buildNumber: 20348, productType: 3, installationType: 'Server' },
      memory: { installedBytes: 16 * 1024 ** 3, usableBytes: expect.any(Number) },
      arc: {
        status: 'Connected',
        resourceId:
          '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-arc/providers/Microsoft.HybridCompute/machines/ARC-NODE-1',
        agentVersion: expect.any(String),
      },
      cluster: {
        name: 'ARC-CLUSTER',
        nodes: [
          { name: 'ARC-NODE-1', state: 'Up' },
          { name: 'ARC-NODE-2', state: 'Down' },
        ],
      },
    });
    expect((probe as { memory: { usableBytes: number } }).memory.usableBytes).toBeLessThan(16 * 1024 ** 3);
  });

  it('reports no cluster for a stand-alone server, and a peer by its own name', async () => {
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: NOW, nodes: 1 }));
    expect(((await values([op('probe', {})]))[0] as { cluster: unknown }).cluster).toBeNull();
    await machine((model) => {
      model.nodes['ARC-NODE-2']!.clusterState = 'Paused';
    });
    const [peer] = await values([op('probe', {})], 'arc-node-2');
    expect(peer).toMatchObject({
      computerName: 'ARC-NODE-2',
      cluster: {
        nodes: [
          { name: 'ARC-NODE-1', state: 'Up' },
          { name: 'ARC-NODE-2', state: 'Paused' },
        ],
      },
    });
  });
});

describe('files', () => {
  it('creates folders with their parents, applies SDDL, and says whether it created', async () => {
    expect(
      await values([
        op('ensureDirectory', { path: `${BASE}\\transcripts`, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('ensureDirectory', { path: `${BASE}\\Transcripts\\` }),
        op('ensureDirectory', { path: 'c:/programdata/arcremotesupport', sddl: 'O:BAG:SYD:(A;;FA;;;SY)' }),
        op('getPath', { path: BASE }),
        op('getPath', { path: `${BASE}\\transcripts` }),
        op('getPath', { path: 'C:\\ProgramData' }),
        op('getPath', { path: 'C:\\' }),
        op('getPath', { path: 'C:\\Nothing' }),
      ]),
    ).toEqual([
      { created: true },
      { created: false },
      { created: false },
      { exists: true, type: 'directory', sddl: 'O:BAG:SYD:(A;;FA;;;SY)' },
      { exists: true, type: 'directory', sddl: SYSTEM_AND_ADMINISTRATORS_ONLY },
      { exists: true, type: 'directory', sddl: DEFAULT_VOLUME_SDDL },
      { exists: true, type: 'directory', sddl: DEFAULT_VOLUME_SDDL },
      { exists: false, type: null, sddl: null },
    ]);
    const files = (await readMachine(modelPath)).nodes['ARC-NODE-1']!.files;
    expect(
      Object.keys(files)
        .filter((key) => !BUILT_IN_FOLDERS.has(key))
        .sort(),
    ).toEqual(['c:\\programdata\\arcremotesupport', 'c:\\programdata\\arcremotesupport\\transcripts']);
    expect(files['c:\\programdata\\arcremotesupport\\transcripts']!.path).toBe(`${BASE}\\transcripts`);
  });

  it('writes files only into existing folders, changes only what differs, and inherits access', async () => {
    const missing = await one(op('writeFile', { path: `${BASE}\\state.json`, content: '{}' }));
    expect(missing).toEqual({
      ok: false,
      error: { operation: 'writeFile', code: 'NotFound', message: expect.stringContaining(BASE), target: BASE },
    });

    expect(
      await values([
        op('ensureDirectory', { path: BASE, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('writeFile', { path: `${BASE}\\state.json`, content: '{"a":1}' }),
        op('writeFile', { path: `${BASE}\\STATE.JSON`, content: '{"a":1}' }),
        op('writeFile', { path: `${BASE}\\state.json`, content: '{"a":1}', sddl: 'O:BAG:SYD:(A;;FR;;;BU)' }),
        op('writeFile', { path: `${BASE}\\state.json`, content: '{"a":2}' }),
        op('getPath', { path: `${BASE}\\state.json` }),
        op('writeFile', { path: `${BASE}\\other.txt`, content: 'x' }),
        op('getPath', { path: `${BASE}\\other.txt` }),
        op('readFile', { path: `${BASE}\\State.json` }),
      ]),
    ).toEqual([
      { created: true },
      { changed: true },
      { changed: false },
      { changed: true },
      { changed: true },
      { exists: true, type: 'file', sddl: 'O:BAG:SYD:(A;;FR;;;BU)' },
      { changed: true },
      { exists: true, type: 'file', sddl: SYSTEM_AND_ADMINISTRATORS_ONLY },
      { exists: true, content: '{"a":2}' },
    ]);
    expect(codes(await host.execute([op('writeFile', { path: BASE, content: 'x' })], { phase: 't' }))).toEqual(['Failed']);
    expect(codes(await host.execute([op('writeFile', { path: 'relative\\file.txt', content: 'x' })], { phase: 't' }))).toEqual([
      'InvalidRequest',
    ]);
    expect(
      codes(await host.execute([op('writeFile', { path: `${BASE}\\b.bin`, content: 'not base64!', encoding: 'base64' })], { phase: 't' })),
    ).toEqual(['InvalidRequest']);
    expect(codes(await host.execute([op('ensureDirectory', { path: `${BASE}\\state.json\\sub` })], { phase: 't' }))).toEqual(['Failed']);
  });

  it('writes UTF-8 without BOM and bytes from base64; reads text as File.ReadAllText does', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<Task/>é', 'utf16le')]).toString('base64');
    const utf8Bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('bom', 'utf8')]).toString('base64');
    expect(
      await values([
        op('ensureDirectory', { path: BASE }),
        op('writeFile', { path: `${BASE}\\a.txt`, content: 'é' }),
        op('readFile', { path: `${BASE}\\a.txt`, encoding: 'base64' }),
        op('writeFile', { path: `${BASE}\\task.xml`, content: utf16, encoding: 'base64' }),
        op('readFile', { path: `${BASE}\\task.xml` }),
        op('readFile', { path: `${BASE}\\task.xml`, encoding: 'base64' }),
        op('writeFile', { path: `${BASE}\\bom.txt`, content: utf8Bom, encoding: 'base64' }),
        op('readFile', { path: `${BASE}\\bom.txt` }),
        op('readFile', { path: `${BASE}\\missing.txt` }),
      ]),
    ).toEqual([
      { created: true },
      { changed: true },
      { exists: true, content: Buffer.from('é', 'utf8').toString('base64') },
      { changed: true },
      { exists: true, content: '<Task/>é' },
      { exists: true, content: utf16 },
      { changed: true },
      { exists: true, content: 'bom' },
      { exists: false, content: null },
    ]);
    expect(codes(await host.execute([op('readFile', { path: BASE })], { phase: 't' }))).toEqual(['Failed']);
  });

  it('lists direct children sorted, removes folders with their contents, and dates folders by their changes', async () => {
    await values([
      op('ensureDirectory', { path: `${BASE}\\logs\\old` }),
      op('writeFile', { path: `${BASE}\\logs\\b.log`, content: 'b' }),
      op('writeFile', { path: `${BASE}\\logs\\A.log`, content: 'a' }),
      op('writeFile', { path: `${BASE}\\logs\\old\\c.log`, content: 'c' }),
    ]);
    await updateMachine(modelPath, (model) => {
      model.clock.nowUtc = '2026-11-25T00:00:00Z';
    });
    expect(
      await values([
        op('listDirectory', { path: `${BASE}\\LOGS` }),
        op('removePath', { path: `${BASE}\\logs\\old` }),
        op('removePath', { path: `${BASE}\\logs\\old` }),
        op('listDirectory', { path: `${BASE}\\logs\\old` }),
        op('listDirectory', { path: BASE }),
        op('removePath', { path: `${BASE}\\logs\\A.LOG` }),
        op('listDirectory', { path: `${BASE}\\logs` }),
      ]),
    ).toEqual([
      {
        exists: true,
        entries: [
          { name: 'A.log', type: 'file', lastWriteTimeUtc: NOW },
          { name: 'b.log', type: 'file', lastWriteTimeUtc: NOW },
          { name: 'old', type: 'directory', lastWriteTimeUtc: NOW },
        ],
      },
      { removed: true },
      { removed: false },
      { exists: false, entries: [] },
      // Removing `old` from logs changed the folder logs.
      { exists: true, entries: [{ name: 'logs', type: 'directory', lastWriteTimeUtc: '2026-11-25T00:00:00Z' }] },
      { removed: true },
      { exists: true, entries: [{ name: 'b.log', type: 'file', lastWriteTimeUtc: NOW }] },
    ]);
    const model = await readMachine(modelPath);
    expect(Object.keys(model.nodes['ARC-NODE-1']!.files).filter((key) => key.includes('old'))).toEqual([]);
    expect(codes(await host.execute([op('listDirectory', { path: `${BASE}\\logs\\b.log` })], { phase: 't' }))).toEqual(['Failed']);
    expect(codes(await host.execute([op('removePath', { path: 'C:\\' })], { phase: 't' }))).toEqual(['InvalidRequest']);
  });
});

describe('local groups', () => {
  it('keeps member names as given, compares them case-insensitively, and reports changes sorted', async () => {
    expect(
      await values([
        op('ensureLocalGroup', { name: 'RemoteSupport-Diagnostics', description: 'one' }),
        op('ensureLocalGroup', { name: 'remotesupport-diagnostics', description: 'two' }),
        op('setLocalGroupMembers', { name: 'REMOTESUPPORT-DIAGNOSTICS', members: ['CONTOSO\\zed', 'CONTOSO\\Amy', 'contoso\\amy'] }),
        op('setLocalGroupMembers', { name: 'RemoteSupport-Diagnostics', members: ['contoso\\ZED', 'CONTOSO\\bob'] }),
        op('setLocalGroupMembers', { name: 'RemoteSupport-Diagnostics', members: ['contoso\\ZED', 'CONTOSO\\bob'] }),
        op('getLocalGroup', { name: 'RemoteSupport-Diagnostics' }),
        op('getLocalGroup', { name: 'Nobody' }),
        op('removeLocalGroup', { name: 'Nobody' }),
      ]),
    ).toEqual([
      { created: true },
      { created: false },
      { added: ['CONTOSO\\Amy', 'CONTOSO\\zed'], removed: [] },
      { added: ['CONTOSO\\bob'], removed: ['CONTOSO\\Amy'] },
      { added: [], removed: [] },
      { exists: true, members: ['CONTOSO\\bob', 'CONTOSO\\zed'] },
      { exists: false, members: [] },
      { removed: false },
    ]);
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.groups['remotesupport-diagnostics']).toEqual({
      name: 'RemoteSupport-Diagnostics',
      description: 'two',
      members: ['CONTOSO\\bob', 'CONTOSO\\zed'],
    });
    expect(codes(await host.execute([op('ensureLocalGroup', { name: 'bad:name', description: '' })], { phase: 't' }))).toEqual([
      'InvalidRequest',
    ]);
    expect(codes(await host.execute([op('setLocalGroupMembers', { name: 'Missing', members: [] })], { phase: 't' }))).toEqual(['NotFound']);
  });
});

describe('JEA session configurations and sessions', () => {
  const pssc = `${BASE}\\ArcRemoteSupport.pssc`;

  it('registers from an existing file, replaces, and restarts WinRM on every (un)registration', async () => {
    await machine((model) => {
      model.nodes['ARC-NODE-1']!.sessions = [
        { id: 'A1', configurationName: 'ArcRemoteSupport', user: 'CONTOSO\\e1', startedAtUtc: NOW },
        { id: 'B1', configurationName: 'Microsoft.PowerShell', user: 'CONTOSO\\admin', startedAtUtc: NOW },
      ];
    });
    expect(await one(op('registerSessionConfiguration', { name: 'ArcRemoteSupport', path: pssc }))).toMatchObject({
      ok: false,
      error: { code: 'NotFound', target: pssc },
    });
    expect(
      await values([
        op('ensureDirectory', { path: BASE }),
        op('writeFile', { path: pssc, content: '@{}' }),
        op('registerSessionConfiguration', { name: 'ArcRemoteSupport', path: pssc }),
        op('listSessions', { configurationName: 'Microsoft.PowerShell' }),
        op('registerSessionConfiguration', { name: 'arcremotesupport', path: pssc.toLowerCase() }),
        op('getSessionConfiguration', { name: 'ARCREMOTESUPPORT' }),
        op('unregisterSessionConfiguration', { name: 'ArcRemoteSupport' }),
        op('unregisterSessionConfiguration', { name: 'ArcRemoteSupport' }),
        op('getSessionConfiguration', { name: 'ArcRemoteSupport' }),
      ]),
    ).toEqual([
      { created: true },
      { changed: true },
      { registered: true },
      { sessions: [] },
      { registered: true },
      { exists: true, configFilePath: pssc.toLowerCase() },
      { removed: true },
      { removed: false },
      { exists: false, configFilePath: null },
    ]);
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.winrmRestarts).toBe(3);
  });

  it('lists and ends the sessions of one endpoint only, without restarting WinRM', async () => {
    await machine((model) => {
      model.nodes['ARC-NODE-1']!.sessions = [
        { id: 'A1', configurationName: 'ArcRemoteSupport', user: 'CONTOSO\\e1', startedAtUtc: NOW },
        { id: 'B1', configurationName: 'Microsoft.PowerShell', user: 'CONTOSO\\admin', startedAtUtc: NOW },
        { id: 'A2', configurationName: 'ArcRemoteSupport', user: 'CONTOSO\\e2', startedAtUtc: NOW },
      ];
    });
    expect(
      await values([
        op('listSessions', { configurationName: 'arcremotesupport' }),
        op('endSessions', { configurationName: 'ArcRemoteSupport' }),
        op('endSessions', { configurationName: 'ArcRemoteSupport' }),
        op('endSessions', { configurationName: 'NoSuchEndpoint' }),
      ]),
    ).toEqual([
      {
        sessions: [
          { id: 'A1', user: 'CONTOSO\\e1', startedAtUtc: NOW },
          { id: 'A2', user: 'CONTOSO\\e2', startedAtUtc: NOW },
        ],
      },
      { ended: 2 },
      { ended: 0 },
      { ended: 0 },
    ]);
    const node = (await readMachine(modelPath)).nodes['ARC-NODE-1']!;
    expect(node.sessions.map((session) => session.id)).toEqual(['B1']);
    expect(node.winrmRestarts).toBe(0);
  });
});

describe('scheduled tasks', () => {
  it('registers, replaces, enables, lists and deletes tasks by folder and name in any case', async () => {
    const disabledXml = TASK_XML.replace('<Enabled>true</Enabled>', '<Enabled>false</Enabled>');
    await updateMachine(modelPath, (model) => {
      model.nodes['ARC-NODE-1']!.tasks['\\arcremotesupport\\reconcile'] = {
        folder: '\\ArcRemoteSupport',
        name: 'Reconcile',
        xml: TASK_XML,
        enabled: true,
        state: 'Ready',
        lastRunTimeUtc: NOW,
        runCount: 4,
      };
    });
    expect(
      await values([
        op('registerTask', { folder: 'ArcRemoteSupport\\', name: 'Retention', xml: disabledXml }),
        op('registerTask', { folder: '\\ArcRemoteSupport\\Sub', name: 'Other', xml: TASK_XML }),
        op('registerTask', { folder: '\\', name: 'AtRoot', xml: TASK_XML }),
        op('registerTask', { folder: '\\ARCREMOTESUPPORT', name: 'RECONCILE', xml: TASK_XML }),
        op('getTask', { folder: '\\ArcRemoteSupport\\', name: 'Retention' }),
        op('setTaskEnabled', { folder: '\\ArcRemoteSupport', name: 'retention', enabled: true }),
        op('setTaskEnabled', { folder: '\\ArcRemoteSupport', name: 'retention', enabled: true }),
        op('listTasks', { folder: '\\ArcRemoteSupport\\' }),
        op('listTasks', { folder: '\\' }),
        op('listTasks', { folder: '\\Missing' }),
        op('deleteTask', { folder: '\\ArcRemoteSupport', name: 'Retention' }),
        op('deleteTask', { folder: '\\ArcRemoteSupport', name: 'Retention' }),
        op('getTask', { folder: '\\ArcRemoteSupport', name: 'Retention' }),
      ]),
    ).toEqual([
      { replaced: false },
      { replaced: false },
      { replaced: false },
      { replaced: true },
      { exists: true, state: 'Disabled', enabled: false, xml: disabledXml },
      { changed: true },
      { changed: false },
      { names: ['RECONCILE', 'Retention'] },
      { names: ['AtRoot'] },
      { names: [] },
      { removed: true },
      { removed: false },
      { exists: false, state: null, enabled: null, xml: null },
    ]);
    const tasks = (await readMachine(modelPath)).nodes['ARC-NODE-1']!.tasks;
    expect(Object.keys(tasks).sort()).toEqual(['\\arcremotesupport\\reconcile', '\\arcremotesupport\\sub\\other', '\\atroot']);
    // A replaced task is a new registration.
    expect(tasks['\\arcremotesupport\\reconcile']).toMatchObject({
      folder: '\\ARCREMOTESUPPORT',
      name: 'RECONCILE',
      lastRunTimeUtc: null,
      runCount: 0,
    });
  });

  it('refuses task XML it cannot read, a bad name, and enabling a missing task', async () => {
    const outcomes = await host.execute(
      [
        op('registerTask', { folder: '\\A', name: 'T', xml: '<Task><Actions>' }),
        op('registerTask', { folder: '\\A', name: 'T', xml: '<Task xmlns="urn:other"><Actions/></Task>' }),
        op('registerTask', {
          folder: '\\A',
          name: 'T',
          xml: TASK_XML.replace('<BootTrigger/>', '<TimeTrigger><StartBoundary>soon</StartBoundary></TimeTrigger>'),
        }),
        op('registerTask', { folder: '\\A', name: 'a/b', xml: TASK_XML }),
        op('setTaskEnabled', { folder: '\\A', name: 'T', enabled: true }),
      ],
      { phase: 't', stopOnError: false },
    );
    expect(codes(outcomes)).toEqual(['InvalidRequest', 'InvalidRequest', 'InvalidRequest', 'InvalidRequest', 'NotFound']);
    expect(outcomes[2]).toMatchObject({ ok: false, error: { target: '\\A\\T', message: expect.stringContaining('StartBoundary') } });
  });
});

describe('event log', () => {
  it('creates the source once, stamps events with the clock, and reads one source oldest first', async () => {
    expect(
      await values([
        op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1001, level: 'Information', message: 'granted' }),
        op('writeEvent', { source: 'Other', eventId: 1, level: 'Error', message: 'x' }),
        op('writeEvent', { source: 'arcremotesupport', eventId: 1003, level: 'Warning', message: 'revoked' }),
        op('readEvents', { source: 'ARCREMOTESUPPORT' }),
        op('readEvents', { source: 'Unknown' }),
      ]),
    ).toEqual([
      { written: true },
      { written: true },
      { written: true },
      {
        events: [
          { eventId: 1001, level: 'Information', message: 'granted', timeUtc: NOW },
          { eventId: 1003, level: 'Warning', message: 'revoked', timeUtc: NOW },
        ],
      },
      { events: [] },
    ]);
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.eventSources).toEqual(['ArcRemoteSupport', 'Other']);
    expect(
      codes(await host.execute([op('writeEvent', { source: 'S', eventId: 70000, level: 'Information', message: '' })], { phase: 't' })),
    ).toEqual(['InvalidRequest']);
  });
});

describe('batches', () => {
  it('rejects an unknown operation or a wrong field as InvalidRequest naming it', async () => {
    const outcomes = await host.execute(
      [{ op: 'formatDisk' } as unknown as OperationRequest, { op: 'writeFile', path: `${BASE}\\x` } as unknown as OperationRequest],
      { phase: 't', stopOnError: false },
    );
    expect(outcomes).toEqual([
      {
        ok: false,
        error: { operation: 'formatDisk', code: 'InvalidRequest', message: expect.stringContaining('formatDisk'), target: null },
      },
      {
        ok: false,
        error: { operation: 'writeFile', code: 'InvalidRequest', message: expect.stringContaining("'content'"), target: `${BASE}\\x` },
      },
    ]);
  });

  it('skips the rest after a failure unless stopOnError is false', async () => {
    const batch = [op('setLocalGroupMembers', { name: 'Missing', members: [] }), op('ensureLocalGroup', { name: 'G', description: '' })];
    const stopped = await host.execute(batch, { phase: 'grant' });
    expect(stopped[1]).toEqual({
      ok: false,
      error: { operation: 'ensureLocalGroup', code: 'Skipped', message: expect.stringContaining('grant'), target: 'G' },
    });
    expect(codes(await host.execute(batch, { phase: 't', stopOnError: false }))).toEqual(['NotFound', 'ok']);
  });

  it('reaches peers only when powered on and allowed; the local node always', async () => {
    const batch = [op('probe', {}), op('ensureLocalGroup', { name: 'G', description: '' })];
    await machine((model) => {
      model.nodes['ARC-NODE-1']!.remoteAccess = 'Denied';
      model.nodes['ARC-NODE-2']!.power = 'Off';
      model.faults = [{ operation: 'probe', action: 'fail' }];
    });
    expect(codes(await host.execute(batch, { phase: 't', node: 'ARC-NODE-2', stopOnError: false }))).toEqual([
      'NodeUnreachable',
      'NodeUnreachable',
    ]);
    expect(codes(await host.execute(batch, { phase: 't', node: 'ARC-NODE-9' }))).toEqual(['NodeUnreachable', 'NodeUnreachable']);
    // The unreachable node consumed no fault; the local node is reachable whatever its remoteAccess.
    expect((await readMachine(modelPath)).faults).toHaveLength(1);
    expect(codes(await host.execute(batch, { phase: 't', node: 'arc-node-1', stopOnError: false }))).toEqual(['Failed', 'ok']);

    await machine((model) => {
      model.nodes['ARC-NODE-2']!.remoteAccess = 'Denied';
    });
    expect(await host.execute(batch, { phase: 't', node: 'ARC-NODE-2' })).toEqual([
      { ok: false, error: { operation: 'probe', code: 'AccessDenied', message: expect.any(String), target: null } },
      { ok: false, error: { operation: 'ensureLocalGroup', code: 'AccessDenied', message: expect.any(String), target: 'G' } },
    ]);
    // A process running on node 2 (its scheduled task) reaches it as the local node.
    const onPeer = new SimulatedHost(modelPath, { localNode: 'ARC-NODE-2' });
    expect(codes(await onPeer.execute(batch, { phase: 't' }))).toEqual(['ok', 'ok']);
  });

  it('counts one launch per non-empty batch, and fails the whole batch on a model it cannot read', async () => {
    await host.execute([op('probe', {}), op('getLocalGroup', { name: 'x' })], { phase: 'a' });
    await host.execute([], { phase: 'b' });
    await host.execute([op('probe', {})], { phase: 'c' });
    expect(host.launches).toBe(2);
    await fs.writeFile(modelPath, '{ not json');
    await expect(host.execute([op('probe', {})], { phase: 'broken' })).rejects.toBeInstanceOf(HostBatchError);
  });

  it('leaves the model file untouched by a batch that changes nothing', async () => {
    const before = await fs.stat(modelPath);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await values([op('probe', {}), op('getLocalGroup', { name: 'x' }), op('listTasks', { folder: '\\' })]);
    expect((await fs.stat(modelPath)).mtimeMs).toBe(before.mtimeMs);
  });

  it('answers a batch after a clock read from the machine as it is then, not as the clock read it', async () => {
    expect((await host.now()).toISOString()).toBe('2026-11-24T20:00:00.000Z');
    await machine((model) => {
      model.clock.nowUtc = '2026-11-25T08:00:00Z';
      model.nodes['ARC-NODE-1']!.groups['remotesupport-test'] = { name: 'RemoteSupport-Test', description: 'd', members: [] };
    });
    const [group] = await values([op('getLocalGroup', { name: 'RemoteSupport-Test' })]);
    expect(group).toMatchObject({ exists: true });
    expect((await host.now()).toISOString()).toBe('2026-11-25T08:00:00.000Z');
  });

  it('answers a batch that changes nothing while another process holds the lock, and changes the machine only under it', async () => {
    // Another process in the middle of its batch: the lock is fresh.
    await fs.mkdir(`${modelPath}.lock`);
    const waiting = new SimulatedHost(modelPath, { lockWaitMs: 300 });
    expect(codes(await waiting.execute([op('probe', {}), op('getLocalGroup', { name: 'Administrators' })], { phase: 'observe' }))).toEqual([
      'ok',
      'ok',
    ]);
    // A change waits for the lock, and here gives up: nothing was written.
    const before = await fs.readFile(modelPath, 'utf8');
    const write = waiting.execute([op('ensureLocalGroup', { name: 'RS-Test', description: 'd' })], { phase: 'apply' });
    await expect(write).rejects.toMatchObject({ reason: 'NotStarted' });
    expect(await fs.readFile(modelPath, 'utf8')).toBe(before);
    // So does a read that consumes a fault: the fault is part of the machine.
    await machine((model) => {
      model.faults = [{ operation: 'getLocalGroup', action: 'fail' }];
    });
    await expect(waiting.execute([op('getLocalGroup', { name: 'Administrators' })], { phase: 'observe' })).rejects.toMatchObject({
      reason: 'NotStarted',
    });
    expect((await readMachine(modelPath)).faults).toHaveLength(1);

    // Released: the change is made, and the read consumes its fault.
    await fs.rmdir(`${modelPath}.lock`);
    expect(codes(await waiting.execute([op('getLocalGroup', { name: 'Administrators' })], { phase: 'observe' }))).toEqual(['Failed']);
    expect((await readMachine(modelPath)).faults).toEqual([]);
    expect(codes(await waiting.execute([op('ensureLocalGroup', { name: 'RS-Test', description: 'd' })], { phase: 'apply' }))).toEqual([
      'ok',
    ]);
    expect(Object.keys((await readMachine(modelPath)).nodes['ARC-NODE-1']!.groups)).toContain('rs-test');
  });
});

describe('faults', () => {
  async function withFaults(faults: Fault[]): Promise<void> {
    await machine((model) => {
      model.faults = faults;
    });
  }

  it('fails matching operations with the fault error, on the matching node, as many times as asked', async () => {
    await withFaults([
      { operation: 'ensureLocalGroup', node: 'arc-node-2', action: 'fail', code: 'AccessDenied', message: 'nope' },
      { operation: 'ensureLocalGroup', action: 'fail', remaining: 2 },
    ]);
    const group = op('ensureLocalGroup', { name: 'G', description: '' });
    expect(await one(group)).toEqual({
      ok: false,
      error: { operation: 'ensureLocalGroup', code: 'Failed', message: expect.stringContaining('Injected fault'), target: 'G' },
    });
    expect(await one(group, 'ARC-NODE-2')).toEqual({
      ok: false,
      error: { operation: 'ensureLocalGroup', code: 'AccessDenied', message: 'nope', target: 'G' },
    });
    expect((await readMachine(modelPath)).faults).toEqual([{ operation: 'ensureLocalGroup', action: 'fail', remaining: 1 }]);
    expect(codes(await host.execute([group, group, group], { phase: 't', stopOnError: false }))).toEqual(['Failed', 'ok', 'ok']);
    expect((await readMachine(modelPath)).faults).toEqual([]);
  });

  it('fails only the operations on the fault target, when it names one (any case)', async () => {
    await withFaults([{ operation: 'writeFile', target: `${BASE}\\HISTORY.jsonl`, action: 'fail', remaining: 2 }]);
    const write = (file: string) => op('writeFile', { path: `${BASE}\\${file}`, content: 'x' });
    const outcomes = await host.execute(
      [op('ensureDirectory', { path: BASE }), write('desired.json'), write('history.jsonl'), write('other.json')],
      { phase: 't', stopOnError: false },
    );
    expect(codes(outcomes)).toEqual(['ok', 'ok', 'Failed', 'ok']);
    expect((await readMachine(modelPath)).faults).toEqual([
      { operation: 'writeFile', target: `${BASE}\\HISTORY.jsonl`, action: 'fail', remaining: 1 },
    ]);
  });

  it('kill: saves what ran before, consumes the fault, releases the lock and calls onKill', async () => {
    await withFaults([{ operation: 'setLocalGroupMembers', action: 'kill' }]);
    let killed = 0;
    const dying = new SimulatedHost(modelPath, { onKill: () => void killed++ });
    const batch = [
      op('ensureLocalGroup', { name: 'G', description: '' }),
      op('setLocalGroupMembers', { name: 'G', members: ['CONTOSO\\e1'] }),
      op('writeEvent', { source: 'S', eventId: 1, level: 'Information', message: 'after' }),
    ];
    await expect(dying.execute(batch, { phase: 'grant' })).rejects.toBeInstanceOf(SimulatedKillError);
    expect(killed).toBe(1);
    const model = await readMachine(modelPath);
    expect(model.faults).toEqual([]);
    expect(model.nodes['ARC-NODE-1']!.groups.g).toEqual({ name: 'G', description: '', members: [] });
    expect(model.nodes['ARC-NODE-1']!.events).toEqual([]);

    // The next run (the handler started again) converges at once: the lock is free.
    const started = Date.now();
    expect(codes(await dying.execute(batch, { phase: 'grant' }))).toEqual(['ok', 'ok', 'ok']);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(killed).toBe(1);
  });

  it('kill: really kills a node process running execute, leaving the model with the operations before it', async () => {
    await withFaults([{ operation: 'writeFile', action: 'kill' }]);
    const script = `
      const { SimulatedHost } = require(${JSON.stringify(HOST_MODULE)});
      const host = new SimulatedHost(${JSON.stringify(modelPath)});
      host.execute([
        { op: 'ensureDirectory', path: 'C:\\\\Data' },
        { op: 'ensureLocalGroup', name: 'G', description: 'd' },
        { op: 'writeFile', path: 'C:\\\\Data\\\\state.json', content: '{}' },
        { op: 'writeEvent', source: 'S', eventId: 1, level: 'Information', message: 'm' },
      ], { phase: 'child' }).then(() => console.log('survived'));
    `;
    const child = await runNode(script);
    expect(child.signal).toBe('SIGKILL');
    expect(child.stdout).not.toContain('survived');
    const model = await readMachine(modelPath);
    const node = model.nodes['ARC-NODE-1']!;
    expect(Object.keys(node.files).filter((key) => !BUILT_IN_FOLDERS.has(key))).toEqual(['c:\\data']);
    expect(Object.keys(node.groups)).toEqual(['g']);
    expect(node.events).toEqual([]);
    expect(model.faults).toEqual([]);
    // The lock did not outlive the process.
    await expect(fs.stat(`${modelPath}.lock`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('several processes on one machine', () => {
  it('loses no write when two processes run batches at the same time', async () => {
    const rounds = 20;
    // Both start at the same moment, once both processes are surely up.
    const startAt = Date.now() + 1500;
    const script = (worker: string) => `
      const { SimulatedHost } = require(${JSON.stringify(HOST_MODULE)});
      (async () => {
        while (Date.now() < ${startAt}) await new Promise((resolve) => setTimeout(resolve, 2));
        const host = new SimulatedHost(${JSON.stringify(modelPath)});
        for (let i = 0; i < ${rounds}; i++) {
          const [outcome] = await host.execute([{ op: 'writeEvent', source: '${worker}', eventId: i, level: 'Information', message: 'm' }], { phase: 'w' });
          if (!outcome || !outcome.ok) throw new Error(JSON.stringify(outcome));
          await host.execute([{ op: 'ensureLocalGroup', name: '${worker}-' + i, description: '' }], { phase: 'w' });
        }
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const children = await Promise.all(['A', 'B'].map((worker) => runNode(script(worker))));
    expect(children.map((child) => [child.exitCode, child.stderr])).toEqual([
      [0, ''],
      [0, ''],
    ]);
    const node = (await readMachine(modelPath)).nodes['ARC-NODE-1']!;
    for (const worker of ['A', 'B']) {
      expect(node.events.filter((event) => event.source === worker).map((event) => event.eventId)).toEqual([...Array(rounds).keys()]);
    }
    expect(Object.keys(node.groups)).toHaveLength(2 * rounds);
  });
});

describe('certificate store', () => {
  it('decrypts protected settings with the certificates beside the model file', async () => {
    const cert = await createTestCertificate(path.join(work, 'certificates'));
    const cms = await encryptToCms('{"secret":1}', cert.crtPath, 'aes256');
    await expect(host.decryptor().decrypt(cms, cert.thumbprint.toLowerCase())).resolves.toBe('{"secret":1}');
  });
});
