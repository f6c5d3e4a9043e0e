/**
 * One contract for the Windows host port, run against both implementations: the simulated
 * machine, and the real PowerShell scripts in a real pwsh over stand-in Windows cmdlets. The same
 * operations on the same machine must give the same results (times left out).
 */
import { promises as fs } from 'fs';
import path from 'path';
import { daclOf, SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { EXPORTED_LOGS_FOLDER, hostSecret, op, type HostSecret, type OperationRequest } from '../../windows/operations';
import type { OperationOutcome, WindowsHost } from '../../windows/port';
import { PowerShellHost } from '../../windows/powershell-host';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import type { MachineModel } from '../../sim/windows/machine-model';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { findPwsh, makeTempDir } from '../support/cms';

const REPO = path.resolve(__dirname, '..', '..');

interface Subject {
  name: string;
  create(modelPath: string, work: string): WindowsHost;
}

const subjects: Subject[] = [
  { name: 'simulated machine', create: (modelPath) => new SimulatedHost(modelPath) },
  {
    name: 'PowerShell scripts on stand-in Windows',
    create: (modelPath, work) =>
      new PowerShellHost({
        powershellExe: findPwsh(),
        scriptsDir: path.join(REPO, 'windows', 'powershell'),
        entryScript: path.join(REPO, 'test', 'powershell', 'Invoke-BridgeWithStandIn.ps1'),
        env: { ARS_MACHINE_MODEL: modelPath, ARS_MACHINE_ROOT: path.join(work, 'drives') },
      }),
  },
];

const NOW = '2026-11-24T20:00:00Z';
const BASE = 'C:\\ProgramData\\ArcRemoteSupport';

/** Outcomes with volatile fields (times, task XML as Windows re-renders it) taken out. */
function normalize(outcomes: OperationOutcome[]): unknown[] {
  return outcomes.map((outcome) => {
    if (!outcome.ok) return { error: { operation: outcome.error.operation, code: outcome.error.code } };
    return JSON.parse(
      JSON.stringify(outcome.value, (key, value) => {
        if (/TimeUtc$|startedAtUtc|timeUtc/.test(key)) return typeof value === 'string' ? 'time' : value;
        if (key === 'xml') return typeof value === 'string' ? value.includes('<Task') : value;
        if (key === 'sddl') return daclOf(value);
        return value;
      }),
    );
  });
}

describe.each(subjects)('the Windows host contract: $name', (subject) => {
  let work: string;
  let modelPath: string;
  let host: WindowsHost;

  async function machine(change?: (model: MachineModel) => void): Promise<void> {
    const model = createDefaultMachine({ nowUtc: NOW });
    change?.(model);
    await writeMachine(modelPath, model);
  }

  const run = async (operations: OperationRequest[], options: { node?: string; stopOnError?: boolean } = {}) =>
    normalize(await host.execute(operations, { phase: 'contract', ...options }));

  beforeEach(async () => {
    work = await makeTempDir('ars-contract');
    modelPath = path.join(work, 'machine.json');
    await machine();
    host = subject.create(modelPath, work);
  });
  afterEach(() => fs.rm(work, { recursive: true, force: true }));

  it('probes the operating system, memory, Arc agent and cluster', async () => {
    expect(await run([op('probe', {})])).toEqual([
      {
        computerName: 'ARC-NODE-1',
        os: { caption: 'Microsoft Windows Server 2022 Datacenter', buildNumber: 20348, productType: 3, installationType: 'Server' },
        memory: { installedBytes: 17179869184, usableBytes: expect.any(Number) },
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
            { name: 'ARC-NODE-2', state: 'Up' },
          ],
        },
      },
    ]);
  });

  it('creates folders and files with their access, idempotently', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<Task/>', 'utf16le')]).toString('base64');
    expect(
      await run([
        op('ensureDirectory', { path: BASE, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('ensureDirectory', { path: BASE, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('getPath', { path: BASE }),
        op('writeFile', { path: `${BASE}\\state.json`, content: '{"a":1}' }),
        op('writeFile', { path: `${BASE}\\state.json`, content: '{"a":1}' }),
        op('writeFile', { path: `${BASE}\\task.xml`, content: utf16, encoding: 'base64' }),
        op('readFile', { path: `${BASE}\\state.json` }),
        op('readFile', { path: `${BASE}\\task.xml`, encoding: 'base64' }),
        op('readFile', { path: `${BASE}\\missing.json` }),
        op('listDirectory', { path: BASE }),
      ]),
    ).toEqual([
      { created: true },
      { created: false },
      { exists: true, type: 'directory', sddl: daclOf(SYSTEM_AND_ADMINISTRATORS_ONLY) },
      { changed: true },
      { changed: false },
      { changed: true },
      { exists: true, content: '{"a":1}' },
      { exists: true, content: utf16 },
      { exists: false, content: null },
      {
        exists: true,
        entries: [
          { name: 'state.json', type: 'file', lastWriteTimeUtc: 'time' },
          { name: 'task.xml', type: 'file', lastWriteTimeUtc: 'time' },
        ],
      },
    ]);
  });

  it('creates a file only when none is there, and leaves an existing one untouched', async () => {
    const request = `${BASE}\\request.json`;
    expect(
      await run(
        [
          op('ensureDirectory', { path: BASE }),
          op('writeFile', { path: request, content: 'first', sddl: SYSTEM_AND_ADMINISTRATORS_ONLY, createNew: true }),
          op('writeFile', { path: request, content: 'second', createNew: true }),
          op('writeFile', { path: request, content: 'first', createNew: true }),
          op('readFile', { path: request }),
          op('getPath', { path: request }),
          op('listDirectory', { path: BASE }),
          op('writeFile', { path: `${BASE}\\nowhere\\request.json`, content: 'x', createNew: true }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([
      { created: true },
      { changed: true },
      { error: { operation: 'writeFile', code: 'Exists' } },
      { error: { operation: 'writeFile', code: 'Exists' } },
      { exists: true, content: 'first' },
      { exists: true, type: 'file', sddl: daclOf(SYSTEM_AND_ADMINISTRATORS_ONLY) },
      { exists: true, entries: [{ name: 'request.json', type: 'file', lastWriteTimeUtc: 'time' }] },
      { error: { operation: 'writeFile', code: 'NotFound' } },
    ]);
  });

  it('lets exactly one of three creates of the same file at the same time win, each in its own host process', async () => {
    await run([op('ensureDirectory', { path: BASE })]);
    const request = `${BASE}\\request.json`;
    const hosts = ['a', 'b', 'c'].map(() => subject.create(modelPath, work));
    const results = await Promise.all(
      hosts.map((each, index) =>
        each.execute([op('writeFile', { path: request, content: `writer ${index}`, createNew: true })], { phase: 'contract' }),
      ),
    );
    const winners = results.flatMap((outcomes, index) => (outcomes[0]?.ok ? [index] : []));
    expect(winners).toHaveLength(1);
    expect(normalize(results.map((outcomes) => outcomes[0]!)).filter((outcome) => JSON.stringify(outcome).includes('Exists'))).toEqual([
      { error: { operation: 'writeFile', code: 'Exists' } },
      { error: { operation: 'writeFile', code: 'Exists' } },
    ]);
    expect(await run([op('readFile', { path: request })])).toEqual([{ exists: true, content: `writer ${winners[0]}` }]);
  });

  it('copies a file from the machine running the handler, once', async () => {
    const source = path.join(work, 'node.exe');
    const bytes = Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0xff, 0x0a, 0x0d]);
    await fs.writeFile(source, bytes);
    expect(
      await run(
        [
          op('copyFromHandler', { source, path: `${BASE}\\node.exe` }),
          op('ensureDirectory', { path: BASE }),
          op('copyFromHandler', { source, path: `${BASE}\\node.exe` }),
          op('copyFromHandler', { source, path: `${BASE}\\node.exe` }),
          op('readFile', { path: `${BASE}\\node.exe`, encoding: 'base64' }),
          op('copyFromHandler', { source: path.join(work, 'missing.exe'), path: `${BASE}\\missing.exe` }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([
      { error: { operation: 'copyFromHandler', code: 'NotFound' } },
      { created: true },
      { copied: true },
      { copied: false },
      { exists: true, content: bytes.toString('base64') },
      { error: { operation: 'copyFromHandler', code: 'NotFound' } },
    ]);
  });

  it('refuses a file in a missing folder and removes folders with their contents', async () => {
    expect(
      await run(
        [
          op('writeFile', { path: `${BASE}\\nowhere\\state.json`, content: '{}' }),
          op('ensureDirectory', { path: `${BASE}\\logs` }),
          op('writeFile', { path: `${BASE}\\logs\\a.log`, content: 'x' }),
          op('removePath', { path: BASE }),
          op('removePath', { path: BASE }),
          op('getPath', { path: `${BASE}\\logs\\a.log` }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([
      { error: { operation: 'writeFile', code: 'NotFound' } },
      { created: true },
      { changed: true },
      { removed: true },
      { removed: false },
      { exists: false, type: null, sddl: null },
    ]);
  });

  it('manages local groups and exact membership', async () => {
    expect(
      await run(
        [
          op('ensureLocalGroup', { name: 'RemoteSupport-Diagnostics', description: 'Arc remote support: Diagnostics' }),
          op('ensureLocalGroup', { name: 'RemoteSupport-Diagnostics', description: 'Arc remote support: Diagnostics' }),
          op('setLocalGroupMembers', { name: 'RemoteSupport-Diagnostics', members: ['CONTOSO\\engineer2', 'CONTOSO\\engineer1'] }),
          op('setLocalGroupMembers', { name: 'RemoteSupport-Diagnostics', members: ['CONTOSO\\engineer2', 'CONTOSO\\engineer3'] }),
          op('getLocalGroup', { name: 'RemoteSupport-Diagnostics' }),
          op('removeLocalGroup', { name: 'RemoteSupport-Diagnostics' }),
          op('removeLocalGroup', { name: 'RemoteSupport-Diagnostics' }),
          op('getLocalGroup', { name: 'RemoteSupport-Diagnostics' }),
          op('setLocalGroupMembers', { name: 'RemoteSupport-Diagnostics', members: [] }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([
      { created: true },
      { created: false },
      { added: ['CONTOSO\\engineer1', 'CONTOSO\\engineer2'], removed: [] },
      { added: ['CONTOSO\\engineer3'], removed: ['CONTOSO\\engineer1'] },
      { exists: true, members: ['CONTOSO\\engineer2', 'CONTOSO\\engineer3'] },
      { removed: true },
      { removed: false },
      { exists: false, members: [] },
      { error: { operation: 'setLocalGroupMembers', code: 'NotFound' } },
    ]);
  });

  describe("the channel's per-grant local account", () => {
    const user = 'ArcRS-3f2b8c1e';
    const group = 'ArcRemoteSupport Diagnostics';
    const description = 'Arc remote support: grant 3f2b8c1e';
    const localUsers = async () => (await readMachine(modelPath)).nodes['ARC-NODE-1']!.users;

    it('creates it with a password nobody is given, resets it when it exists, lists it by prefix and removes it from its groups', async () => {
      const before = createDefaultMachine({ nowUtc: NOW });
      before.nodes['ARC-NODE-1']!.users['arcrs-3f2b8c1e'] = {
        name: 'ArcRS-3f2b8c1e',
        description: 'left by a crash',
        passwordNeverExpires: false,
        userMayChangePassword: true,
        passwordLastSetUtc: '2026-01-01T00:00:00Z',
      };
      await writeMachine(modelPath, before);
      const outcomes = await host.execute(
        [
          op('ensureLocalUser', { name: 'arcrs-3F2B8C1E', description }),
          op('ensureLocalUser', { name: 'ArcRS-0a1b2c3d', description }),
          op('ensureLocalUser', { name: 'Helpdesk', description: 'not ours' }),
          op('listLocalUsers', { prefix: 'arcrs-' }),
        ],
        { phase: 'contract' },
      );
      expect(normalize(outcomes)).toEqual([{ created: false }, { created: true }, { created: true }, { names: ['ArcRS-0a1b2c3d', user] }]);
      // The existing account got a new password (now), the description and the policy flags.
      expect((await localUsers())['arcrs-3f2b8c1e']).toEqual({
        name: user,
        description,
        passwordNeverExpires: true,
        userMayChangePassword: false,
        passwordLastSetUtc: expect.stringMatching(/^2026-11-24T20:00:00/),
      });
      expect(JSON.stringify(outcomes)).not.toMatch(/password/i);

      expect(
        await run([
          op('ensureLocalGroup', { name: group, description: 'Diagnostics' }),
          op('setLocalGroupMembers', { name: group, members: [`ARC-NODE-1\\${user}`, 'CONTOSO\\engineer1'] }),
          op('removeLocalUser', { name: user }),
          op('removeLocalUser', { name: user }),
          op('getLocalGroup', { name: group }),
          op('listLocalUsers', { prefix: 'ArcRS-' }),
        ]),
      ).toEqual([
        { created: true },
        { added: ['ARC-NODE-1\\ArcRS-3f2b8c1e', 'CONTOSO\\engineer1'], removed: [] },
        { removed: true },
        { removed: false },
        { exists: true, members: ['CONTOSO\\engineer1'] },
        { names: ['ArcRS-0a1b2c3d'] },
      ]);
      expect(Object.values(await localUsers()).map(({ name }) => name)).toEqual(['ArcRS-0a1b2c3d', 'Helpdesk']);
    });

    it('refuses on a domain controller, which has no local accounts', async () => {
      await machine((model) => {
        model.nodes['ARC-NODE-1']!.os.productType = 2;
      });
      const outcomes = await host.execute(
        [
          op('ensureLocalUser', { name: user, description }),
          op('listLocalUsers', { prefix: 'ArcRS-' }),
          op('removeLocalUser', { name: user }),
        ],
        { phase: 'contract', stopOnError: false },
      );
      expect(normalize(outcomes)).toEqual([
        { error: { operation: 'ensureLocalUser', code: 'DomainController' } },
        { error: { operation: 'listLocalUsers', code: 'DomainController' } },
        { error: { operation: 'removeLocalUser', code: 'DomainController' } },
      ]);
      const refusal = outcomes[0]!;
      expect(refusal.ok ? null : refusal.error).toMatchObject({ message: expect.stringMatching(/domain controller/), target: user });
      expect(await localUsers()).toEqual({});
    });

    it('refuses bad names and descriptions, naming them', async () => {
      const outcomes = await host.execute(
        [
          op('ensureLocalUser', { name: 'ArcRS-3f2b8c1e-toolong', description }),
          op('ensureLocalUser', { name: 'Arc/RS', description }),
          op('ensureLocalUser', { name: user, description: 'x'.repeat(49) }),
          op('ensureLocalUser', { name: user, description: 7 as unknown as string }),
          op('listLocalUsers', { prefix: '' }),
          op('removeLocalUser', { name: '..' }),
        ],
        { phase: 'contract', stopOnError: false },
      );
      expect(normalize(outcomes)).toEqual([
        { error: { operation: 'ensureLocalUser', code: 'InvalidRequest' } },
        { error: { operation: 'ensureLocalUser', code: 'InvalidRequest' } },
        { error: { operation: 'ensureLocalUser', code: 'InvalidRequest' } },
        { error: { operation: 'ensureLocalUser', code: 'InvalidRequest' } },
        { error: { operation: 'listLocalUsers', code: 'InvalidRequest' } },
        { error: { operation: 'removeLocalUser', code: 'InvalidRequest' } },
      ]);
      const messages = outcomes.map((outcome) => (outcome.ok ? '' : outcome.error.message));
      expect(messages[0]).toContain('ArcRS-3f2b8c1e-toolong');
      expect(messages[2]).toMatch(/48/);
      expect(await localUsers()).toEqual({});
    });
  });

  it("ends the channel's session processes by their script's file name, and only those", async () => {
    const session = (id: number, script: string) => ({
      id,
      name: 'powershell.exe',
      commandLine: `"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\Packages\\Plugins\\ArcRemoteSupport\\1.0.0\\scripts\\${script}" -UserName ArcRS-3f2b8c1e -ConfigurationName ArcRemoteSupport`,
      startedAtUtc: NOW,
    });
    await machine((model) => {
      model.nodes['ARC-NODE-1']!.processes = [
        session(5120, 'ChannelSession.ps1'),
        session(812, 'MyChannelSession.ps1'),
        { id: 4, name: 'System', commandLine: '', startedAtUtc: NOW },
        session(4388, 'channelsession.ps1'),
      ];
    });
    expect(
      await run(
        [
          op('endChannelSessionProcesses', { scriptName: 'ChannelSession.ps1' }),
          op('endChannelSessionProcesses', { scriptName: 'ChannelSession.ps1' }),
          op('endChannelSessionProcesses', { scriptName: '..\\x.ps1' }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([{ ended: [4388, 5120] }, { ended: [] }, { error: { operation: 'endChannelSessionProcesses', code: 'InvalidRequest' } }]);
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.processes.map((process) => process.id)).toEqual([812, 4]);
  });

  it('registers the JEA endpoint, lists and ends its sessions, and unregisters it', async () => {
    await machine((model) => {
      model.nodes['ARC-NODE-1']!.sessions = [
        { id: 'A1', configurationName: 'ArcRemoteSupport', user: 'CONTOSO\\engineer1', startedAtUtc: NOW },
        { id: 'B2', configurationName: 'Microsoft.PowerShell', user: 'CONTOSO\\admin', startedAtUtc: NOW },
      ];
    });
    const pssc = `${BASE}\\ArcRemoteSupport.pssc`;
    expect(
      await run([
        op('ensureDirectory', { path: BASE }),
        op('writeFile', { path: pssc, content: "@{ SchemaVersion = '2.0.0.0' }" }),
        op('getSessionConfiguration', { name: 'ArcRemoteSupport' }),
        op('registerSessionConfiguration', { name: 'ArcRemoteSupport', path: pssc }),
        op('getSessionConfiguration', { name: 'ArcRemoteSupport' }),
      ]),
    ).toEqual([
      { created: true },
      { changed: true },
      { exists: false, configFilePath: null },
      { registered: true },
      { exists: true, configFilePath: pssc },
    ]);
    // Registering restarted WinRM, which dropped every open session.
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.winrmRestarts).toBe(1);
    expect(await run([op('listSessions', { configurationName: 'ArcRemoteSupport' })])).toEqual([{ sessions: [] }]);

    await machine((model) => {
      model.nodes['ARC-NODE-1']!.sessionConfigurations = { arcremotesupport: { name: 'ArcRemoteSupport', configFilePath: pssc } };
      model.nodes['ARC-NODE-1']!.sessions = [
        { id: 'A1', configurationName: 'ArcRemoteSupport', user: 'CONTOSO\\engineer1', startedAtUtc: NOW },
        { id: 'A2', configurationName: 'ArcRemoteSupport', user: 'CONTOSO\\engineer2', startedAtUtc: NOW },
        { id: 'B2', configurationName: 'Microsoft.PowerShell', user: 'CONTOSO\\admin', startedAtUtc: NOW },
      ];
    });
    expect(
      await run([
        op('listSessions', { configurationName: 'ArcRemoteSupport' }),
        op('endSessions', { configurationName: 'ArcRemoteSupport' }),
        op('listSessions', { configurationName: 'ArcRemoteSupport' }),
        op('listSessions', { configurationName: 'Microsoft.PowerShell' }),
        op('unregisterSessionConfiguration', { name: 'ArcRemoteSupport' }),
        op('unregisterSessionConfiguration', { name: 'ArcRemoteSupport' }),
      ]),
    ).toEqual([
      {
        sessions: [
          { id: 'A1', user: 'CONTOSO\\engineer1', startedAtUtc: 'time' },
          { id: 'A2', user: 'CONTOSO\\engineer2', startedAtUtc: 'time' },
        ],
      },
      { ended: 2 },
      { sessions: [] },
      { sessions: [{ id: 'B2', user: 'CONTOSO\\admin', startedAtUtc: 'time' }] },
      { removed: true },
      { removed: false },
    ]);
    // Ending sessions does not restart WinRM; unregistering once does.
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.winrmRestarts).toBe(1);
  });

  it('registers, disables, lists and deletes scheduled tasks', async () => {
    const folder = '\\ArcRemoteSupport\\';
    const xml =
      '<?xml version="1.0" encoding="UTF-16"?><Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task"><Triggers><BootTrigger><Enabled>true</Enabled></BootTrigger></Triggers><Principals><Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals><Settings><Enabled>true</Enabled><StartWhenAvailable>true</StartWhenAvailable></Settings><Actions Context="Author"><Exec><Command>C:\\Program Files\\ArcRemoteSupport\\node.exe</Command><Arguments>agent.js reconcile</Arguments></Exec></Actions></Task>';
    expect(
      await run([
        op('getTask', { folder, name: 'Reconcile' }),
        op('registerTask', { folder, name: 'Reconcile', xml }),
        op('registerTask', { folder, name: 'Reconcile', xml }),
        op('getTask', { folder, name: 'Reconcile' }),
        op('setTaskEnabled', { folder, name: 'Reconcile', enabled: false }),
        op('setTaskEnabled', { folder, name: 'Reconcile', enabled: false }),
        op('getTask', { folder, name: 'Reconcile' }),
        op('listTasks', { folder }),
        op('deleteTask', { folder, name: 'Reconcile' }),
        op('deleteTask', { folder, name: 'Reconcile' }),
        op('listTasks', { folder }),
      ]),
    ).toEqual([
      { exists: false, state: null, enabled: null, xml: null },
      { replaced: false },
      { replaced: true },
      { exists: true, state: 'Ready', enabled: true, xml: true },
      { changed: true },
      { changed: false },
      { exists: true, state: 'Disabled', enabled: false, xml: true },
      { names: ['Reconcile'] },
      { removed: true },
      { removed: false },
      { names: [] },
    ]);
  });

  it('writes and reads Application log events', async () => {
    expect(
      await run([
        op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1001, level: 'Information', message: 'Access granted: Diagnostics' }),
        op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1003, level: 'Warning', message: 'Access revoked' }),
        op('readEvents', { source: 'ArcRemoteSupport' }),
      ]),
    ).toEqual([
      { written: true },
      { written: true },
      {
        events: [
          { eventId: 1001, level: 'Information', message: 'Access granted: Diagnostics', timeUtc: 'time' },
          { eventId: 1003, level: 'Warning', message: 'Access revoked', timeUtc: 'time' },
        ],
      },
    ]);
  });

  it('never changes the built-in endpoints and rejects events it cannot write', async () => {
    expect(
      await run(
        [
          op('registerSessionConfiguration', { name: 'Microsoft.PowerShell', path: `${BASE}\\x.pssc` }),
          op('unregisterSessionConfiguration', { name: 'microsoft.powershell' }),
          op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1, level: 'Information', message: '' }),
          op('writeEvent', { source: 'ArcRemoteSupport', eventId: 70000, level: 'Information', message: 'x' }),
          op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1, level: 'Critical' as 'Error', message: 'x' }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([
      { error: { operation: 'registerSessionConfiguration', code: 'InvalidRequest' } },
      { error: { operation: 'unregisterSessionConfiguration', code: 'InvalidRequest' } },
      { error: { operation: 'writeEvent', code: 'InvalidRequest' } },
      { error: { operation: 'writeEvent', code: 'InvalidRequest' } },
      { error: { operation: 'writeEvent', code: 'InvalidRequest' } },
    ]);
  });

  it('skips the rest of a batch after a failure unless asked to go on', async () => {
    const batch = [
      op('ensureLocalGroup', { name: 'G1', description: 'one' }),
      op('setLocalGroupMembers', { name: 'NoSuchGroup', members: ['CONTOSO\\x'] }),
      op('ensureLocalGroup', { name: 'G2', description: 'two' }),
    ];
    expect(await run(batch)).toEqual([
      { created: true },
      { error: { operation: 'setLocalGroupMembers', code: 'NotFound' } },
      { error: { operation: 'ensureLocalGroup', code: 'Skipped' } },
    ]);
    expect(await run(batch, { stopOnError: false })).toEqual([
      { created: false },
      { error: { operation: 'setLocalGroupMembers', code: 'NotFound' } },
      { created: true },
    ]);
  });

  it('reaches a peer node, and reports a node that is down or denies access for every operation', async () => {
    const batch = [op('probe', {}), op('ensureLocalGroup', { name: 'G1', description: 'one' })];
    const peer = await run(batch, { node: 'ARC-NODE-2' });
    expect(peer[0]).toMatchObject({ computerName: 'ARC-NODE-2' });
    expect(peer[1]).toEqual({ created: true });

    await machine((model) => {
      model.nodes['ARC-NODE-2']!.power = 'Off';
    });
    expect(await run(batch, { node: 'ARC-NODE-2' })).toEqual([
      { error: { operation: 'probe', code: 'NodeUnreachable' } },
      { error: { operation: 'ensureLocalGroup', code: 'NodeUnreachable' } },
    ]);
    expect(((await run([op('probe', {})]))[0] as { cluster: unknown }).cluster).toEqual({
      name: 'ARC-CLUSTER',
      nodes: [
        { name: 'ARC-NODE-1', state: 'Up' },
        { name: 'ARC-NODE-2', state: 'Down' },
      ],
    });

    await machine((model) => {
      model.nodes['ARC-NODE-2']!.remoteAccess = 'Denied';
    });
    expect(await run(batch, { node: 'ARC-NODE-2' })).toEqual([
      { error: { operation: 'probe', code: 'AccessDenied' } },
      { error: { operation: 'ensureLocalGroup', code: 'AccessDenied' } },
    ]);
  });

  describe('secret files', () => {
    // A listen token with what JSON and PowerShell quoting care about, and characters beyond ASCII.
    const TOKEN = 'SharedAccessSignature sr=https%3a%2f%2fns.servicebus.windows.net%2fg1&sig=Ab+/c%3D"q\\x\n€😀&se=1767225600&skn=listen';
    const OTHER = 'SharedAccessSignature sr=x&sig=second&se=1767225601&skn=listen';
    const FILE = `${BASE}\\relay.token`;

    /** Every file the adapter keeps: the model, and the PowerShell stand-in's drives. */
    async function storedText(): Promise<string> {
      const texts: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else texts.push(await fs.readFile(full, 'latin1'), await fs.readFile(full, 'utf8'), await fs.readFile(full, 'utf16le'));
        }
      };
      await walk(work);
      return texts.join('\n');
    }

    it('keeps a secret only encrypted, reads it back, and rewrites it only when it changes', async () => {
      expect(
        await run([
          op('ensureDirectory', { path: BASE }),
          op('readSecretFile', { path: FILE }),
          op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
          op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
          op('readSecretFile', { path: FILE }),
          op('writeSecretFile', { path: FILE, secret: hostSecret(OTHER) }),
          op('readSecretFile', { path: FILE }),
        ]),
      ).toEqual([
        { created: true },
        { secret: null },
        { written: true },
        { written: false },
        { secret: TOKEN },
        { written: true },
        { secret: OTHER },
      ]);
      const stored = await storedText();
      for (const secret of [TOKEN, OTHER]) {
        for (const form of [secret, 'sig=Ab+', 'sig=second', Buffer.from(secret, 'utf8').toString('base64')])
          expect(stored).not.toContain(form);
      }
      // The file holds the blob and nothing else.
      const [file] = await host.execute([op('readFile', { path: FILE })], { phase: 'contract' });
      expect(file).toMatchObject({ ok: true, value: { exists: true, content: expect.stringMatching(/^[A-Za-z0-9+/]+={0,2}$/) } });
    });

    it('keeps secret files inside the data folder only, in a folder that exists', async () => {
      const secret = hostSecret(TOKEN);
      const outcomes = await host.execute(
        [
          op('ensureDirectory', { path: BASE }),
          op('writeSecretFile', { path: 'C:\\ProgramData\\Other\\relay.token', secret }),
          op('writeSecretFile', { path: `${BASE}\\..\\ArcRemoteSupportX\\relay.token`, secret }),
          op('writeSecretFile', { path: BASE, secret }),
          op('readSecretFile', { path: 'C:\\Windows\\System32\\config\\SAM' }),
          op('writeSecretFile', { path: `${BASE}\\missing\\relay.token`, secret }),
          op('writeSecretFile', { path: FILE, secret: 'a plain string' as unknown as HostSecret }),
        ],
        { phase: 'contract', stopOnError: false },
      );
      expect(normalize(outcomes)).toEqual([
        { created: true },
        { error: { operation: 'writeSecretFile', code: 'InvalidRequest' } },
        { error: { operation: 'writeSecretFile', code: 'InvalidRequest' } },
        { error: { operation: 'writeSecretFile', code: 'InvalidRequest' } },
        { error: { operation: 'readSecretFile', code: 'InvalidRequest' } },
        { error: { operation: 'writeSecretFile', code: 'NotFound' } },
        { error: { operation: 'writeSecretFile', code: 'InvalidRequest' } },
      ]);
      const messages = outcomes.map((outcome) => (outcome.ok ? '' : outcome.error.message));
      expect(messages[1]).toContain("'C:\\ProgramData\\Other\\relay.token' is outside the data folder");
      expect(messages[1]).toContain(`inside '${BASE}'`);
      expect(messages[6]).toMatch(/secret/);
      expect(messages.join('\n')).not.toMatch(/sig=|a plain string/);
    });

    it('refuses a file written on another node, or damaged, as DPAPI does, and overwrites it', async () => {
      const peer = await run(
        [
          op('ensureDirectory', { path: BASE }),
          op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
          op('readSecretFile', { path: FILE }),
          op('readFile', { path: FILE }),
        ],
        { node: 'ARC-NODE-2' },
      );
      expect(peer.slice(0, 3)).toEqual([{ created: true }, { written: true }, { secret: TOKEN }]);
      const blob = (peer[3] as { content: string }).content;

      const outcomes = await host.execute(
        [
          op('ensureDirectory', { path: BASE }),
          op('writeFile', { path: FILE, content: blob }),
          op('readSecretFile', { path: FILE }),
          op('writeFile', { path: `${BASE}\\damaged.token`, content: blob.slice(0, 20) + 'AAAA' + blob.slice(24) }),
          op('readSecretFile', { path: `${BASE}\\damaged.token` }),
          op('writeSecretFile', { path: FILE, secret: hostSecret(TOKEN) }),
          op('readSecretFile', { path: FILE }),
        ],
        { phase: 'contract', stopOnError: false },
      );
      expect(normalize(outcomes)).toEqual([
        { created: true },
        { changed: true },
        { error: { operation: 'readSecretFile', code: 'Failed' } },
        { changed: true },
        { error: { operation: 'readSecretFile', code: 'Failed' } },
        { written: true },
        { secret: TOKEN },
      ]);
      const failure = outcomes[2] as { error: { message: string; target: string } };
      expect(failure.error.message).toContain(`The secret file '${FILE}' cannot be decrypted on this machine`);
      expect(failure.error.target).toBe(FILE);
      expect(failure.error.message).not.toContain(blob.slice(0, 16));
    });
  });

  it("exports an event log channel's events inside the window; a channel the node lacks is absent", async () => {
    const event = (timeUtc: string, eventId: number) => ({
      source: 'Service Control Manager',
      eventId,
      level: 'Information' as const,
      message: `event ${eventId}`,
      timeUtc,
    });
    await machine((model) => {
      model.nodes['ARC-NODE-1']!.eventLogs!['System']!.push(
        event('2026-11-24T17:59:59Z', 1),
        event('2026-11-24T18:00:00Z', 2),
        event('2026-11-24T19:30:00Z', 3),
        event('2026-11-24T20:00:01Z', 4),
      );
    });
    const query = "*[System[TimeCreated[@SystemTime>='2026-11-24T18:00:00.000Z' and @SystemTime<='2026-11-24T20:00:00.000Z']]]";
    const exported = `${EXPORTED_LOGS_FOLDER}\\event-system.evtx`;
    const lines = [2, 3].map(
      (eventId) =>
        `${JSON.stringify({ channel: 'System', timeCreated: eventId === 2 ? '2026-11-24T18:00:00Z' : '2026-11-24T19:30:00Z', provider: 'Service Control Manager', eventId, level: 'Information', message: `event ${eventId}` })}\n`,
    );
    expect(
      await run(
        [
          // The folder first: the export does not make it.
          op('exportEventLog', { channel: 'System', query, path: exported }),
          op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
          op('exportEventLog', { channel: 'System', query, path: exported }),
          op('readFile', { path: exported }),
          op('exportEventLog', { channel: 'Microsoft-Windows-Hyper-V-VMMS-Admin', query, path: `${EXPORTED_LOGS_FOLDER}\\hyperv.evtx` }),
          op('getPath', { path: `${EXPORTED_LOGS_FOLDER}\\hyperv.evtx` }),
          // Only a plain channel name, the window query and a .evtx file in the export folder get through.
          op('exportEventLog', { channel: 'System" /f:xml', query, path: exported }),
          op('exportEventLog', { channel: 'System', query: `${query} or *`, path: exported }),
          op('exportEventLog', {
            channel: 'System',
            query: "*[System[TimeCreated[@SystemTime>='x' and @SystemTime<='y']]]",
            path: exported,
          }),
          op('exportEventLog', { channel: 'System', query, path: 'C:\\Windows\\System32\\config\\system.evtx' }),
          op('exportEventLog', { channel: 'System', query, path: `${EXPORTED_LOGS_FOLDER}\\event-system.txt` }),
        ],
        { stopOnError: false },
      ),
    ).toEqual([
      { error: { operation: 'exportEventLog', code: 'NotFound' } },
      { created: true },
      { present: true, size: Buffer.byteLength(lines.join('')) },
      { exists: true, content: lines.join('') },
      { present: false, size: 0 },
      { exists: false, type: null, sddl: null },
      ...Array.from({ length: 5 }, () => ({ error: { operation: 'exportEventLog', code: 'InvalidRequest' } })),
    ]);
  });

  it('starts one host process per batch', async () => {
    const before = host.launches;
    await host.execute([op('probe', {}), op('listTasks', { folder: '\\ArcRemoteSupport\\' }), op('getLocalGroup', { name: 'x' })], {
      phase: 'one',
    });
    await host.execute([op('probe', {})], { phase: 'two' });
    expect(host.launches - before).toBe(2);
  });
});
