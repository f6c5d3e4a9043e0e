/**
 * The owner's module (windows/powershell/ArcRemoteSupport) in the real pwsh over the stand-in Windows,
 * with the real node agent behind it: a simulated machine with our groups, endpoint sessions and
 * tasks, and desired.json, history.jsonl and transcripts in its files. The agent is installed on
 * the node's C: drive as the stand-in maps it: node.exe is a link to this Node and agent.js to the
 * agent bundled in beforeAll, run against the same simulated machine. Each command runs in its own
 * pwsh through test/powershell/Invoke-WithStandIn.ps1, which prints what it returned as JSON.
 *
 * The agent lives in the simulated machine's time, fixed at the start of this file, so every time
 * here is relative to it. pwsh (and the agent it runs) runs in Europe/Berlin: transcript headers
 * carry local times, and the module must return them as UTC.
 */
import execa from 'execa';
import { promises as fs, readFileSync } from 'fs';
import path from 'path';
import { serializeChannelStatus, type ChannelStatus } from '../../core/channel-status';
import { parseDesiredRecord, serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import { formatUtc } from '../../core/desired-state';
import * as layout from '../../core/node-layout';
import { serializeSessionRecord, sessionRecordPath, type SessionRecord } from '../../core/session-record';
import { logCollectionRecordPath, serializeLogCollectionRecord, type LogCollectionRecord } from '../../core/log-collection-record';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op } from '../../windows/operations';
import { bundleHandler } from '../../scripts/build/bundle';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import type { Fault, MachineModel, TaskEntry } from '../../sim/windows/machine-model';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { findPwsh, makeTempDir } from '../support/cms';

const repo = path.resolve(__dirname, '..', '..');
const wrapper = path.join(repo, 'test', 'powershell', 'Invoke-WithStandIn.ps1');
const manifest = path.join(repo, 'windows', 'powershell', 'ArcRemoteSupport', 'ArcRemoteSupport.psd1');
const pwsh = findPwsh();
const NODE = 'ARC-NODE-1';
const TZ = 'Europe/Berlin';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Whole seconds, as the records hold them.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const at = (offsetMs: number) => new Date(NOW + offsetMs);

const consent = { termsVersion: '2026.1', acceptedAt: at(-2 * HOUR), acceptedBy: 'owner@contoso.example' };
const ACTIVE: DesiredRecord = {
  enabled: true,
  retentionDays: 30,
  grant: { level: 'DiagnosticsAndRepair', grantId: 'g-now', expiresAt: at(4 * HOUR), supportRequestId: 'SR-2002', consent },
};
const EXPIRED: DesiredRecord = { ...ACTIVE, grant: { ...ACTIVE.grant!, expiresAt: at(-HOUR) } };
/** The grant in force with a channel: engineers come in through the relay. */
const WITH_CHANNEL: DesiredRecord = {
  ...ACTIVE,
  channel: {
    grantId: 'g-now',
    machine: NODE,
    relayNamespace: 'contoso-support.servicebus.windows.net',
    hybridConnection: 'arc-node-1',
    ticketPublicKey: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
    listenTokenDigest: 'a'.repeat(64),
    listenTokenExpiresAt: at(4 * HOUR),
  },
};
const channelStatus = (fields: Partial<ChannelStatus>): ChannelStatus => ({
  connection: 'connected',
  detail: `connected since ${at(-30 * 60_000).toISOString()}`,
  httpStatus: null,
  lastError: null,
  grantId: 'g-now',
  hybridConnection: 'arc-node-1',
  openSessions: 1,
  updatedAt: at(-60_000).toISOString(),
  processId: 4321,
  ...fields,
});
/** An engineer's session over the channel, as the agent records it when it ends. */
const CHANNEL_SESSION: SessionRecord = {
  sessionId: '0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
  grantId: 'g-now',
  engineer: 'alice@support.example',
  ticketId: 'jti-0001',
  relayConnectionId: 'relay-conn-42',
  level: 'DiagnosticsAndRepair',
  startedAt: at(-90 * 60_000).toISOString(),
  endedAt: at(-80 * 60_000).toISOString(),
  endReason: 'closed',
  detail: 'The engineer ended the session.',
  commands: [
    {
      id: 'c1',
      command: 'Get-Service -Name WinRM',
      startedAt: at(-89 * 60_000).toISOString(),
      endedAt: at(-89 * 60_000 + 1500).toISOString(),
      outcome: 'completed',
      outputBytes: 512,
    },
  ],
  commandsRejected: {},
  processId: 5150,
  transcriptFolder: '',
  account: 'ArcRS-00000000',
};

/** history.jsonl lines as node-intent.ts writes them, oldest first. */
function historyLine(
  offsetMs: number,
  change: string,
  by: string,
  level: string,
  grantId: string,
  expiresInMs: number,
  supportRequestId: string,
): string {
  return JSON.stringify({
    at: formatUtc(at(offsetMs)),
    change,
    by,
    level,
    grantId,
    expiresAt: formatUtc(at(expiresInMs)),
    supportRequestId,
    termsVersion: '2026.1',
  });
}
const HISTORY = [
  historyLine(-10 * DAY, 'granted', 'owner@contoso.example', 'Diagnostics', 'g-old', -9 * DAY, 'SR-1001'),
  historyLine(-9.5 * DAY, 'revoked', 'extension settings', 'None', 'g-old', -9 * DAY, 'SR-1001'),
  historyLine(-2 * HOUR, 'granted', 'owner@contoso.example', 'DiagnosticsAndRepair', 'g-now', 4 * HOUR, 'SR-2002'),
];

/** yyyyMMddHHmmss in Europe/Berlin, as a Windows PowerShell transcript stamps its times. */
function localStamp(date: Date): string {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}${part('month')}${part('day')}${part('hour')}${part('minute')}${part('second')}`;
}

/** A JEA session transcript as Windows PowerShell 5.1 writes it: UTF-8 with BOM, CRLF. */
function transcript(user: string, start: Date, end: Date | null, body: string): string {
  const stars = '**********************';
  const lines = [
    stars,
    'Windows PowerShell transcript start',
    `Start time: ${localStamp(start)}`,
    `Username: ${user}`,
    `RunAs User: WinRM Virtual Users\\WinRM VA_1_${user.replace('\\', '_')}`,
    'Configuration Name: ArcRemoteSupport',
    `Machine: ${NODE} (Microsoft Windows NT 10.0.20348.0)`,
    'Host Application: C:\\Windows\\system32\\wsmprovhost.exe -Embedding',
    'Process ID: 4242',
    'PSVersion: 5.1.20348.2849',
    'PSEdition: Desktop',
    stars,
    body,
    ...(end ? [stars, 'Windows PowerShell transcript end', `End time: ${localStamp(end)}`, stars] : []),
  ];
  return `\ufeff${lines.join('\r\n')}\r\n`;
}
const OLD_SESSION = {
  start: at(-5 * DAY),
  end: at(-5 * DAY + 15 * 60_000),
  body: 'PS>Get-Service -Name WinRM\r\n\r\nStatus   Name\r\n------   ----\r\nRunning  WinRM',
};
const NEW_SESSION = { start: at(-HOUR), body: 'PS>Get-ClusterNode\r\nNODE1 Up' };

function task(name: string): TaskEntry {
  return { folder: '\\ArcRemoteSupport', name, xml: '<Task/>', enabled: true, state: 'Ready', lastRunTimeUtc: null, runCount: 0 };
}

/** How the agent is found on the node: installed, not there, or a half copy of agent.js. */
type AgentInstall = 'installed' | 'missing' | 'half-copied';

interface Machine {
  modelPath: string;
  readModel(): MachineModel;
  /** A file of the simulated node (null when missing). */
  nodeFile(windowsPath: string): Promise<string | null>;
  writeNodeFile(windowsPath: string, content: string): Promise<void>;
  addFault(fault: Fault): Promise<void>;
  run(command: string): Promise<{ output: any[]; warnings: string[]; errors: string[]; host: string }>;
  /** The installed agent run directly, as the Reconcile task runs it. */
  agent(...argv: string[]): Promise<execa.ExecaReturnValue>;
}

const tempDirs: string[] = [];
let simulator: string;
let agentBundle: string;

beforeAll(async () => {
  simulator = await simulatorBundle();
  const bin = await makeTempDir('owner-module-agent');
  tempDirs.push(bin);
  await bundleHandler({
    identity: { publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' },
    outFile: path.join(bin, 'handler.js'),
  });
  agentBundle = path.join(bin, 'agent.js');
}, 120_000);
afterAll(() => Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

async function machine(record: DesiredRecord | null, options: { agent?: AgentInstall } = {}): Promise<Machine> {
  const dir = await makeTempDir('owner-module');
  tempDirs.push(dir);
  const modelPath = path.join(dir, 'model.json');
  const root = path.join(dir, 'machines');
  const model = createDefaultMachine({ nowUtc: formatUtc(at(0)) });
  const node = model.nodes[NODE]!;
  const group = (name: string, members: string[]) => ({ name, description: 'Arc remote support', members });
  node.groups = {
    [layout.GROUPS.engineers.toLowerCase()]: group(layout.GROUPS.engineers, ['CONTOSO\\eng1', 'CONTOSO\\eng2']),
    [layout.GROUPS.diagnostics.toLowerCase()]: group(layout.GROUPS.diagnostics, ['CONTOSO\\stale']),
    [layout.GROUPS.repair.toLowerCase()]: group(layout.GROUPS.repair, ['CONTOSO\\eng1', 'CONTOSO\\eng2']),
  };
  node.sessionConfigurations = {
    [layout.ENDPOINT_NAME.toLowerCase()]: { name: layout.ENDPOINT_NAME, configFilePath: layout.SESSION_CONFIGURATION_FILE },
  };
  node.sessions = [
    { id: 'S1', configurationName: layout.ENDPOINT_NAME, user: 'CONTOSO\\eng1', startedAtUtc: formatUtc(at(-HOUR)) },
    { id: 'S2', configurationName: layout.ENDPOINT_NAME, user: 'CONTOSO\\eng2', startedAtUtc: formatUtc(at(-30 * 60_000)) },
    { id: 'ADMIN', configurationName: 'Microsoft.PowerShell', user: 'CONTOSO\\admin', startedAtUtc: formatUtc(at(-2 * HOUR)) },
  ];
  for (const name of [layout.RECONCILE_TASK, layout.RETENTION_TASK, layout.expireTaskName('g-now')])
    node.tasks[`\\arcremotesupport\\${name.toLowerCase()}`] = task(name);
  node.eventSources = [layout.EVENT_SOURCE];
  await writeMachine(modelPath, model);

  // The node's files: the record, the history, and two transcripts (a live one in a folder of its day).
  const host = new SimulatedHost(modelPath);
  const execute = async (operations: Parameters<SimulatedHost['execute']>[0]) => {
    const outcomes = await host.execute(operations, { phase: 'test' });
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    return outcomes;
  };
  await execute([
    op('ensureDirectory', { path: layout.DATA_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
    op('ensureDirectory', { path: `${layout.TRANSCRIPT_FOLDER}\\20260302` }),
    ...(record ? [op('writeFile', { path: layout.DESIRED_STATE_FILE, content: serializeDesiredRecord(record) })] : []),
    op('writeFile', { path: layout.HISTORY_FILE, content: HISTORY.map((line) => `${line}\n`).join('') }),
    op('writeFile', {
      path: `${layout.TRANSCRIPT_FOLDER}\\PowerShell_transcript.${NODE}.Ab3dEf9h.${localStamp(OLD_SESSION.start)}.txt`,
      content: transcript('CONTOSO\\eng1', OLD_SESSION.start, OLD_SESSION.end, OLD_SESSION.body),
    }),
    op('writeFile', {
      path: `${layout.TRANSCRIPT_FOLDER}\\20260302\\PowerShell_transcript.${NODE}.Zx8yWv7u.${localStamp(NEW_SESSION.start)}.txt`,
      content: transcript('CONTOSO\\eng2', NEW_SESSION.start, null, NEW_SESSION.body),
    }),
  ]);

  // The agent on the node's C: drive (the stand-in maps C: to <root>/<node>/C).
  const agentFolder = path.join(root, NODE, 'C', ...layout.AGENT_FOLDER.slice(3).split('\\'));
  const agent = options.agent ?? 'installed';
  if (agent !== 'missing') {
    await fs.mkdir(agentFolder, { recursive: true });
    await fs.symlink(process.execPath, path.join(agentFolder, 'node.exe'));
    if (agent === 'installed') await fs.symlink(agentBundle, path.join(agentFolder, 'agent.js'));
    else await fs.writeFile(path.join(agentFolder, 'agent.js'), (await fs.readFile(agentBundle)).subarray(0, 4096));
  }

  const simulated = simulatorEnvironment(modelPath, { simulator });
  const env = { ARS_MACHINE_MODEL: modelPath, ARS_MACHINE_ROOT: root, POWERSHELL_TELEMETRY_OPTOUT: '1', TZ, ...simulated };
  return {
    modelPath,
    readModel: () => JSON.parse(readFileSync(modelPath, 'utf8')) as MachineModel,
    nodeFile: async (windowsPath) => {
      const [outcome] = await execute([op('readFile', { path: windowsPath })]);
      return (outcome as { value: { content: string | null } }).value.content;
    },
    writeNodeFile: async (windowsPath, content) => {
      await execute([op('writeFile', { path: windowsPath, content })]);
    },
    addFault: async (fault) => {
      const current = await readMachine(modelPath);
      current.faults.push(fault);
      await writeMachine(modelPath, current);
    },
    run: async (command) => {
      const { stdout } = await execa(pwsh, ['-NoProfile', '-NonInteractive', '-File', wrapper, '-Command', command], { env });
      // The JSON is the last line; anything before it went to the host (What if: ...).
      const lines = stdout.split('\n');
      return { ...JSON.parse(lines.pop()!), host: lines.join('\n') };
    },
    agent: (...argv) => execa(process.execPath, [agentBundle, ...argv], { reject: false, env: { ...simulated, TZ } }),
  };
}

const time = (value: string | null) => (value === null ? null : new Date(value).getTime());

describe('Get-RemoteSupportAccess', () => {
  it('shows the grant in force with its level, expiry, support request and engineers', async () => {
    const m = await machine(ACTIVE);
    const { output, warnings, errors } = await m.run('Get-RemoteSupportAccess');
    expect({ warnings, errors }).toEqual({ warnings: [], errors: [] });
    expect(output).toHaveLength(1);
    const grant = output[0];
    expect(grant).toMatchObject({
      Level: 'DiagnosticsAndRepair',
      State: 'Active',
      GrantId: 'g-now',
      SupportRequestId: 'SR-2002',
      TermsVersion: '2026.1',
      AcceptedBy: 'owner@contoso.example',
      Engineers: ['CONTOSO\\eng1', 'CONTOSO\\eng2'],
      EndedAt: null,
    });
    expect(time(grant.ExpiresAt)).toBe(ACTIVE.grant!.expiresAt.getTime());
    expect(time(grant.AcceptedAt)).toBe(consent.acceptedAt.getTime());
    // Four hours left by the machine's clock, in whole seconds.
    expect(grant.TimeLeft).toMatchObject({ TotalHours: 4, Milliseconds: 0 });
  });

  it('returns nothing once the grant has expired, and with -IncludeExpired the expired grant and the past ones from the history', async () => {
    const m = await machine(EXPIRED);
    const now = await m.run('Get-RemoteSupportAccess');
    expect(now.output).toEqual([]);
    // The groups still hold the engineers: access nobody recorded is named.
    expect(now.warnings.join('\n')).toMatch(
      /No grant is in force, but 'ArcRemoteSupport Repair' still has members: CONTOSO\\eng1, CONTOSO\\eng2/,
    );

    const { output, errors } = await m.run('Get-RemoteSupportAccess -IncludeExpired');
    expect(errors).toEqual([]);
    expect(output.map((g: any) => [g.GrantId, g.State, g.Level])).toEqual([
      ['g-now', 'Expired', 'DiagnosticsAndRepair'],
      ['g-old', 'Revoked', 'Diagnostics'],
    ]);
    const [expired, old] = output;
    expect(time(expired.ExpiresAt)).toBe(EXPIRED.grant!.expiresAt.getTime());
    expect(expired).toMatchObject({ EndedBy: 'expiry', TimeLeft: expect.objectContaining({ Ticks: 0 }) });
    expect(old).toMatchObject({
      SupportRequestId: 'SR-1001',
      AcceptedBy: 'owner@contoso.example',
      EndedBy: 'extension settings',
      Engineers: [],
    });
    expect(time(old.AcceptedAt)).toBe(at(-10 * DAY).getTime());
    expect(time(old.EndedAt)).toBe(at(-9.5 * DAY).getTime());
    expect(time(old.ExpiresAt)).toBe(at(-9 * DAY).getTime());
  });

  it('reports an unreadable record and shows no access (fail closed)', async () => {
    const m = await machine(null);
    await m.writeNodeFile(layout.DESIRED_STATE_FILE, '{"schemaVersion": 1, "enabled": tru');
    const { output, warnings, errors } = await m.run('Get-RemoteSupportAccess');
    expect(output).toEqual([]);
    expect(errors).toEqual([]);
    expect(warnings[0]).toMatch(
      /^C:\\ProgramData\\ArcRemoteSupport\\desired\.json: the desired-state record is unreadable \(.+\); access is off/,
    );
  });
});

describe('Get-RemoteSupportAccess and the channel', () => {
  it('shows how the channel of the grant in force is connected, as Azure Local names it, and the relay code of a refusal', async () => {
    const m = await machine(WITH_CHANNEL);
    await m.writeNodeFile(layout.CHANNEL_STATUS_FILE, serializeChannelStatus(channelStatus({})));
    const connected = await m.run('Get-RemoteSupportAccess');
    expect({ warnings: connected.warnings, errors: connected.errors }).toEqual({ warnings: [], errors: [] });
    expect(connected.output).toEqual([
      expect.objectContaining({
        GrantId: 'g-now',
        State: 'Active',
        ConnectionStatus: 'Connected',
        ConnectionDetail: `connected since ${at(-30 * 60_000).toISOString()}`,
      }),
    ]);

    await m.writeNodeFile(
      layout.CHANNEL_STATUS_FILE,
      serializeChannelStatus(
        channelStatus({
          connection: 'refused',
          detail: 'refused (401 unauthorized): the relay refused the listen token; waiting for a new token',
          httpStatus: 401,
          lastError: 'the relay refused the listen token',
          openSessions: 0,
        }),
      ),
    );
    const refused = await m.run('Get-RemoteSupportAccess -IncludeExpired');
    expect(refused.errors).toEqual([]);
    expect(refused.output.map((g: any) => [g.GrantId, g.ConnectionStatus, g.ConnectionDetail])).toEqual([
      ['g-now', 'Refused:401', 'refused (401 unauthorized): the relay refused the listen token; waiting for a new token'],
      // A past grant's channel is gone: nothing to show.
      ['g-old', null, null],
    ]);
  });

  it('shows a state left by another grant as Disconnected and stale, and none without a channel', async () => {
    const m = await machine(WITH_CHANNEL);
    await m.writeNodeFile(layout.CHANNEL_STATUS_FILE, serializeChannelStatus(channelStatus({ grantId: 'g-old' })));
    const { output, errors } = await m.run('Get-RemoteSupportAccess');
    expect(errors).toEqual([]);
    expect(output[0].ConnectionStatus).toBe('Disconnected');
    expect(output[0].ConnectionDetail).toMatch(/^not reported for this grant yet: .*channel-status\.json is stale, from grant g-old/);

    const without = await machine(ACTIVE);
    await without.writeNodeFile(layout.CHANNEL_STATUS_FILE, serializeChannelStatus(channelStatus({})));
    const plain = await without.run('Get-RemoteSupportAccess');
    expect(plain.output[0]).toMatchObject({ GrantId: 'g-now', ConnectionStatus: null, ConnectionDetail: null });
    // A listener claimed with no grant that has a channel: a warning, not the truth.
    expect(plain.warnings).toEqual([expect.stringMatching(/says the channel is connected for grant g-now .*that state is stale/)]);
  });
});

describe('Get-RemoteSupportSessionHistory', () => {
  it('lists access changes and sessions newest first, with transcript times as UTC', async () => {
    const m = await machine(ACTIVE);
    const { output, errors } = await m.run('Get-RemoteSupportSessionHistory');
    expect(errors).toEqual([]);
    expect(output.map((e: any) => [e.Kind, e.By, time(e.Time)])).toEqual([
      ['Session', 'CONTOSO\\eng2', NEW_SESSION.start.getTime()],
      ['Granted', 'owner@contoso.example', at(-2 * HOUR).getTime()],
      ['Session', 'CONTOSO\\eng1', OLD_SESSION.start.getTime()],
      ['Revoked', 'extension settings', at(-9.5 * DAY).getTime()],
      ['Granted', 'owner@contoso.example', at(-10 * DAY).getTime()],
    ]);
    const [live, granted, old] = output;
    expect(live).toMatchObject({ RunAsUser: 'WinRM Virtual Users\\WinRM VA_1_CONTOSO_eng2', EndTime: null, Transcript: null });
    expect(live.Path).toBe(
      `${layout.TRANSCRIPT_FOLDER}\\20260302\\PowerShell_transcript.${NODE}.Zx8yWv7u.${localStamp(NEW_SESSION.start)}.txt`,
    );
    expect(time(old.EndTime)).toBe(OLD_SESSION.end.getTime());
    expect(granted).toMatchObject({ Level: 'DiagnosticsAndRepair', GrantId: 'g-now', SupportRequestId: 'SR-2002', TermsVersion: '2026.1' });
  });

  it('filters by -FromDate and adds the transcript text with -IncludeTranscript', async () => {
    const m = await machine(ACTIVE);
    const from = formatUtc(at(-3 * DAY));
    const { output, errors } = await m.run(`Get-RemoteSupportSessionHistory -FromDate '${from}' -IncludeTranscript`);
    expect(errors).toEqual([]);
    expect(output.map((e: any) => e.Kind)).toEqual(['Session', 'Granted']);
    expect(output[0].Transcript).toContain('Windows PowerShell transcript start');
    expect(output[0].Transcript).toContain('PS>Get-ClusterNode');
    expect(output[0].Transcript.startsWith('\ufeff')).toBe(false);
    expect(output[1].Transcript).toBeNull();

    const older = await m.run(`Get-RemoteSupportSessionHistory -FromDate '${formatUtc(at(-6 * DAY))}' -IncludeTranscript`);
    const session = older.output.find((e: any) => e.By === 'CONTOSO\\eng1');
    expect(session.Transcript).toContain('Running  WinRM');
    expect(older.output.map((e: any) => e.Kind)).toEqual(['Session', 'Granted', 'Session']);
  });
});

describe('Get-RemoteSupportSessionHistory and channel sessions', () => {
  it("lists an engineer's channel session with its end, reason, ticket id and commands; the commands with -IncludeTranscript", async () => {
    const m = await machine(WITH_CHANNEL);
    const outcomes = await new SimulatedHost(m.modelPath).execute(
      [
        op('ensureDirectory', { path: layout.CHANNEL_SESSIONS_FOLDER }),
        op('writeFile', { path: sessionRecordPath(CHANNEL_SESSION.sessionId), content: serializeSessionRecord(CHANNEL_SESSION) }),
      ],
      { phase: 'the channel agent' },
    );
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);

    const { output, errors } = await m.run('Get-RemoteSupportSessionHistory');
    expect(errors).toEqual([]);
    expect(output.map((e: any) => e.Kind)).toEqual(['Session', 'ChannelSession', 'Granted', 'Session', 'Revoked', 'Granted']);
    const session = output[1];
    expect(session).toMatchObject({
      By: 'alice@support.example',
      Level: 'DiagnosticsAndRepair',
      GrantId: 'g-now',
      SessionId: CHANNEL_SESSION.sessionId,
      EndReason: 'closed',
      Detail: 'The engineer ended the session.',
      TicketId: 'jti-0001',
      RelayConnectionId: 'relay-conn-42',
      Account: 'ArcRS-00000000',
      CommandCount: 1,
      Commands: null,
      TranscriptFolder: null,
      Path: sessionRecordPath(CHANNEL_SESSION.sessionId),
    });
    expect(time(session.Time)).toBe(at(-90 * 60_000).getTime());
    expect(time(session.EndTime)).toBe(at(-80 * 60_000).getTime());
    // The other kinds have no channel properties.
    expect(output[2]).toMatchObject({ Kind: 'Granted', SessionId: null, EndReason: null, CommandCount: null, Commands: null });

    const full = await m.run(`Get-RemoteSupportSessionHistory -FromDate '${formatUtc(at(-100 * 60_000))}' -IncludeTranscript`);
    const detailed = full.output.find((e: any) => e.Kind === 'ChannelSession');
    expect(detailed.TranscriptFolder).toBe(layout.TRANSCRIPT_FOLDER);
    expect(detailed.Commands).toHaveLength(1);
    expect(detailed.Commands[0]).toMatchObject({
      Id: 'c1',
      Command: 'Get-Service -Name WinRM',
      Outcome: 'completed',
      Error: null,
      OutputBytes: 512,
    });
    expect(time(detailed.Commands[0].StartedAt)).toBe(at(-89 * 60_000).getTime());
    expect(time(detailed.Commands[0].EndedAt)).toBe(at(-89 * 60_000 + 1500).getTime());
  });
});

describe('Disable-RemoteSupport', () => {
  it('revokes locally: groups emptied, endpoint sessions ended, record cleared, expiry task gone, history and event written', async () => {
    const m = await machine(ACTIVE);
    const { output, errors } = await m.run('Disable-RemoteSupport -Confirm:$false');
    expect(errors).toEqual([]);
    expect(output).toEqual([
      {
        ComputerName: NODE,
        GrantId: 'g-now',
        Level: 'DiagnosticsAndRepair',
        MembersRemoved: [
          'ArcRemoteSupport Diagnostics: CONTOSO\\stale',
          'ArcRemoteSupport Repair: CONTOSO\\eng1',
          'ArcRemoteSupport Repair: CONTOSO\\eng2',
        ],
        SessionsEnded: 2,
        ExpireTasksRemoved: ['Expire-g-now'],
        RecordCleared: true,
        HistoryWritten: true,
      },
    ]);

    const node = m.readModel().nodes[NODE]!;
    expect(node.groups[layout.GROUPS.diagnostics.toLowerCase()]!.members).toEqual([]);
    expect(node.groups[layout.GROUPS.repair.toLowerCase()]!.members).toEqual([]);
    // The owner's list of engineers stays; only access is taken away.
    expect(node.groups[layout.GROUPS.engineers.toLowerCase()]!.members).toEqual(['CONTOSO\\eng1', 'CONTOSO\\eng2']);
    expect(node.sessions.map((s) => s.id)).toEqual(['ADMIN']);
    expect(
      Object.values(node.tasks)
        .map((t) => t.name)
        .sort(),
    ).toEqual([layout.RECONCILE_TASK, layout.RETENTION_TASK]);
    expect(node.events).toEqual([
      expect.objectContaining({
        source: layout.EVENT_SOURCE,
        eventId: 1003,
        level: 'Warning',
        message: expect.stringMatching(
          /^Remote support access revoked: level None, grant g-now, .*support request SR-2002, terms 2026\.1, by .+ \(local\)\.$/,
        ),
      }),
    ]);

    const lines = (await m.nodeFile(layout.HISTORY_FILE))!.split('\n');
    expect(lines.slice(0, 3)).toEqual(HISTORY);
    expect(lines[4]).toBe('');
    const revoked = JSON.parse(lines[3]!);

    // desired.json: the same bytes the handler would write for "no grant", enabled and retention kept,
    // with the grants that ended here: the local revoke among them, so unchanged settings cannot bring it back.
    const text = await m.nodeFile(layout.DESIRED_STATE_FILE);
    const cleared: DesiredRecord = {
      enabled: true,
      retentionDays: 30,
      grant: null,
      endedGrants: [
        { grantId: 'g-old', endedAt: at(-9.5 * DAY), reason: 'revoked' },
        { grantId: 'g-now', endedAt: new Date(revoked.at), reason: 'revoked-locally', by: revoked.by.replace(/ \(local\)$/, '') },
      ],
    };
    expect(text).toBe(serializeDesiredRecord(cleared));
    expect(parseDesiredRecord(text)).toEqual({ record: cleared });

    expect(Object.keys(revoked)).toEqual([
      'at',
      'change',
      'by',
      'level',
      'grantId',
      'expiresAt',
      'supportRequestId',
      'termsVersion',
      'auditId',
    ]);
    // The line and the event are one audit record: the event names the line's id.
    expect(node.events[0]!.message).toContain(`, audit ${revoked.auditId}, `);
    expect(revoked).toMatchObject({
      change: 'revoked',
      level: 'None',
      grantId: 'g-now',
      expiresAt: formatUtc(ACTIVE.grant!.expiresAt),
      supportRequestId: 'SR-2002',
      termsVersion: '2026.1',
    });
    expect(revoked.by).toMatch(/^.+\\.+ \(local\)$/);
    // Stamped with the machine's clock (the simulated one, here).
    expect(revoked.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(revoked.at).toBe(m.readModel().clock.nowUtc);

    // No access is shown any more, and the history has the local revoke.
    expect(await m.run('Get-RemoteSupportAccess')).toEqual({ output: [], warnings: [], errors: [], host: '' });
    const history = await m.run(`Get-RemoteSupportSessionHistory -FromDate '${formatUtc(at(-60_000))}'`);
    expect(history.output.map((e: any) => [e.Kind, e.GrantId])).toEqual([['Revoked', 'g-now']]);

    // The node agent's Reconcile converges to desired.json: it keeps access off and changes nothing.
    const reconcile = await m.agent('reconcile');
    expect({ exitCode: reconcile.exitCode, stdout: reconcile.stdout }).toEqual({ exitCode: 0, stdout: 'reconcile: nothing to change' });
    expect(m.readModel().nodes[NODE]!.groups[layout.GROUPS.repair.toLowerCase()]!.members).toEqual([]);
    expect((await m.nodeFile(layout.HISTORY_FILE))!.split('\n')).toHaveLength(5);
  });

  it('on a peer covered from another node, keeps that mark: the covering node still manages it', async () => {
    const m = await machine({ ...ACTIVE, managedFrom: 'ARC-NODE-2' });
    const { errors } = await m.run('Disable-RemoteSupport -Confirm:$false');
    expect(errors).toEqual([]);
    const { record } = parseDesiredRecord(await m.nodeFile(layout.DESIRED_STATE_FILE));
    expect(record).toMatchObject({ enabled: true, retentionDays: 30, grant: null, managedFrom: 'ARC-NODE-2' });
    expect(record.endedGrants).toContainEqual(expect.objectContaining({ grantId: 'g-now', reason: 'revoked-locally' }));
  });

  it('changes nothing with -WhatIf, nor when it cannot ask for confirmation', async () => {
    const m = await machine(ACTIVE);
    const model = JSON.stringify(m.readModel());
    const record = await m.nodeFile(layout.DESIRED_STATE_FILE);

    const whatIf = await m.run('Disable-RemoteSupport -WhatIf');
    expect(whatIf).toMatchObject({ output: [], errors: [] });
    expect(whatIf.host).toMatch(/What if: Performing the operation "Revoke: .*" on target "remote support access on ARC-NODE-1"/);
    // ConfirmImpact High: without -Confirm:$false it asks, which a non-interactive session cannot.
    const unconfirmed = await m.run('Disable-RemoteSupport');
    expect(unconfirmed.output).toEqual([]);
    expect(unconfirmed.errors.join('\n')).toMatch(/NonInteractive/i);

    expect(JSON.stringify(m.readModel())).toBe(model);
    expect(await m.nodeFile(layout.DESIRED_STATE_FILE)).toBe(record);
    expect((await m.nodeFile(layout.HISTORY_FILE))!.split('\n')).toHaveLength(4);
  });

  it('after expiry clears the record without writing a revoke, since the grant already ended', async () => {
    const m = await machine(EXPIRED);
    // The Expire task already ran: access groups empty, no sessions, the expiry in the history.
    const model = m.readModel();
    const node = model.nodes[NODE]!;
    node.groups[layout.GROUPS.diagnostics.toLowerCase()]!.members = [];
    node.groups[layout.GROUPS.repair.toLowerCase()]!.members = [];
    node.sessions = node.sessions.filter((s) => s.configurationName !== layout.ENDPOINT_NAME);
    await writeMachine(m.modelPath, model);
    const expired = JSON.stringify({
      at: formatUtc(at(-HOUR)),
      change: 'expired',
      by: 'expiry',
      level: 'None',
      grantId: 'g-now',
      expiresAt: formatUtc(at(-HOUR)),
      supportRequestId: 'SR-2002',
      termsVersion: '2026.1',
    });
    await m.writeNodeFile(layout.HISTORY_FILE, [...HISTORY, expired].map((line) => `${line}\n`).join(''));

    const { output, errors } = await m.run('Disable-RemoteSupport -Confirm:$false');
    expect(errors).toEqual([]);
    expect(output[0]).toMatchObject({
      GrantId: 'g-now',
      MembersRemoved: [],
      SessionsEnded: 0,
      ExpireTasksRemoved: ['Expire-g-now'],
      RecordCleared: true,
      HistoryWritten: false,
    });
    expect(parseDesiredRecord(await m.nodeFile(layout.DESIRED_STATE_FILE)).record.grant).toBeNull();
    expect(m.readModel().nodes[NODE]!.events).toEqual([]);
  });
});

describe('without a working agent', () => {
  const REPAIR = /To repair the agent, reinstall the ArcRemoteSupport extension on this machine/;

  it('the read commands stop with an error that names the missing agent and how to repair it: no answer is not "no access"', async () => {
    const m = await machine(ACTIVE, { agent: 'missing' });
    for (const command of ['Get-RemoteSupportAccess', 'Get-RemoteSupportSessionHistory']) {
      const { output, errors } = await m.run(command);
      expect(output).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^The node agent is missing: C:\\Program Files\\ArcRemoteSupport\\node\.exe and C:\\Program Files\\ArcRemoteSupport\\agent\.js do not exist\. /,
      );
      expect(errors[0]).toMatch(REPAIR);
    }
  });

  it('the read commands report an agent that exits with an error, with what it printed', async () => {
    const m = await machine(ACTIVE, { agent: 'half-copied' });
    for (const command of ['Get-RemoteSupportAccess -IncludeExpired', 'Get-RemoteSupportSessionHistory']) {
      const { output, errors } = await m.run(command);
      expect(output).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^The node agent failed \(exit code 1\): .*SyntaxError/);
      expect(errors[0]).toMatch(REPAIR);
    }
  });

  it.each<[string, AgentInstall, RegExp]>([
    ['the agent missing', 'missing', /^The node agent is missing: /],
    ['an agent that exits with an error', 'half-copied', /^The node agent failed \(exit code 1\): /],
  ])(
    'Disable-RemoteSupport, with %s, still empties the access groups and ends the sessions, and says what it could not record',
    async (_name, agent, problem) => {
      const m = await machine(ACTIVE, { agent });
      const { output, warnings, errors } = await m.run('Disable-RemoteSupport -Confirm:$false');
      expect(output).toEqual([
        {
          ComputerName: NODE,
          GrantId: null,
          Level: null,
          MembersRemoved: [
            'ArcRemoteSupport Diagnostics: CONTOSO\\stale',
            'ArcRemoteSupport Repair: CONTOSO\\eng1',
            'ArcRemoteSupport Repair: CONTOSO\\eng2',
          ],
          SessionsEnded: 2,
          ExpireTasksRemoved: [],
          RecordCleared: false,
          HistoryWritten: false,
        },
      ]);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(problem);
      expect(warnings[0]).toContain(
        "took access away without it: it emptied the groups 'ArcRemoteSupport Diagnostics' and 'ArcRemoteSupport Repair' (3 member(s) removed) and ended 2 open session(s) of the ArcRemoteSupport endpoint.",
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^The revoke is not recorded: .*desired\.json may still hold the grant.*Set the access level to None in Azure, repair the agent and run Disable-RemoteSupport again\./,
      );
      expect(errors[0]).toMatch(REPAIR);

      const node = m.readModel().nodes[NODE]!;
      expect(node.groups[layout.GROUPS.diagnostics.toLowerCase()]!.members).toEqual([]);
      expect(node.groups[layout.GROUPS.repair.toLowerCase()]!.members).toEqual([]);
      expect(node.groups[layout.GROUPS.engineers.toLowerCase()]!.members).toEqual(['CONTOSO\\eng1', 'CONTOSO\\eng2']);
      expect(node.sessions.map((s) => s.id)).toEqual(['ADMIN']);
      // Nothing recorded, as it said: the record, history, events and expiry task are as they were.
      expect(await m.nodeFile(layout.DESIRED_STATE_FILE)).toBe(serializeDesiredRecord(ACTIVE));
      expect(await m.nodeFile(layout.HISTORY_FILE)).toBe(HISTORY.map((line) => `${line}\n`).join(''));
      expect(node.events).toEqual([]);
      expect(Object.values(node.tasks).map((t) => t.name)).toContain(layout.expireTaskName('g-now'));
    },
  );
});

describe('the order of the local revoke', () => {
  it('takes access away even when the event cannot be written, and reports the audit write that failed', async () => {
    const m = await machine(ACTIVE);
    await m.addFault({ operation: 'writeEvent', action: 'fail', message: 'The event log is full' });
    const { output, warnings, errors } = await m.run('Disable-RemoteSupport -Confirm:$false');
    expect(warnings).toEqual([]);
    expect(errors).toEqual(['Could not log event 1003 (Failed: The event log is full).']);
    expect(output).toEqual([
      {
        ComputerName: NODE,
        GrantId: 'g-now',
        Level: 'DiagnosticsAndRepair',
        MembersRemoved: [
          'ArcRemoteSupport Diagnostics: CONTOSO\\stale',
          'ArcRemoteSupport Repair: CONTOSO\\eng1',
          'ArcRemoteSupport Repair: CONTOSO\\eng2',
        ],
        SessionsEnded: 2,
        ExpireTasksRemoved: ['Expire-g-now'],
        RecordCleared: true,
        HistoryWritten: true,
      },
    ]);
    const node = m.readModel().nodes[NODE]!;
    expect(node.groups[layout.GROUPS.repair.toLowerCase()]!.members).toEqual([]);
    expect(node.sessions.map((s) => s.id)).toEqual(['ADMIN']);
    expect(node.events).toEqual([]);
    expect(m.readModel().faults).toEqual([]);
    expect(JSON.parse((await m.nodeFile(layout.HISTORY_FILE))!.trim().split('\n').pop()!)).toMatchObject({
      change: 'revoked',
      grantId: 'g-now',
    });
  });

  it('has taken access away before the history write when the agent dies there; the module reports it, and the next Reconcile still writes the revoke', async () => {
    const m = await machine(ACTIVE);
    // The first writeFile is the record; the agent is killed at the second, the history line.
    await m.addFault({ operation: 'writeFile', skip: 1, action: 'kill' });
    const { output, warnings, errors } = await m.run('Disable-RemoteSupport -Confirm:$false');
    // Without a report from the agent, the module removes access itself: there is nothing left to remove.
    expect(output[0]).toMatchObject({ GrantId: null, MembersRemoved: [], SessionsEnded: 0, RecordCleared: false, HistoryWritten: false });
    expect(warnings[0]).toMatch(/^The node agent failed \(exit code \d+\)/);
    expect(errors.join('\n')).toMatch(/^The revoke is not recorded/);

    const node = m.readModel().nodes[NODE]!;
    expect(node.groups[layout.GROUPS.diagnostics.toLowerCase()]!.members).toEqual([]);
    expect(node.groups[layout.GROUPS.repair.toLowerCase()]!.members).toEqual([]);
    expect(node.sessions.map((s) => s.id)).toEqual(['ADMIN']);
    expect(parseDesiredRecord(await m.nodeFile(layout.DESIRED_STATE_FILE)).record.grant).toBeNull();
    expect(await m.nodeFile(layout.HISTORY_FILE)).toBe(HISTORY.map((line) => `${line}\n`).join(''));

    // The history still says access was given: the Reconcile task records the revoke it finds.
    const reconcile = await m.agent('reconcile');
    expect(reconcile.exitCode).toBe(0);
    expect(reconcile.stdout).toBe('reconcile: append the access change to the history; log event 1003; delete task Expire-g-now');
    expect(JSON.parse((await m.nodeFile(layout.HISTORY_FILE))!.trim().split('\n').pop()!)).toMatchObject({
      change: 'revoked',
      by: 'agent reconcile',
      grantId: 'g-now',
    });
  });
});

describe('the module', () => {
  it('knows only where the agent is, and the groups and endpoint it empties without it (core/node-layout.ts); exports the four commands, each with help', async () => {
    const script = `
      $ErrorActionPreference = 'Stop'
      $module = Import-Module '${manifest}' -PassThru -Force
      $layout = & $module {
        [ordered]@{ agentNode = $script:AgentNode; agentScript = $script:AgentScript; accessGroups = $script:AccessGroups; endpoint = $script:EndpointName }
      }
      $variables = @(& $module { Get-Variable -Scope Script | ForEach-Object { $_.Name } })
      $commands = @($module.ExportedCommands.Keys | Sort-Object)
      $synopses = [ordered]@{}
      foreach ($name in $commands) { $synopses[$name] = [string] (Get-Help $name).Synopsis }
      ConvertTo-Json -InputObject ([ordered]@{ layout = $layout; variables = $variables; commands = $commands; synopses = $synopses }) -Depth 4 -Compress`;
    const { stdout } = await execa(pwsh, ['-NoProfile', '-NonInteractive', '-Command', script], {
      env: { POWERSHELL_TELEMETRY_OPTOUT: '1' },
    });
    const result = JSON.parse(stdout);
    expect(result.layout).toEqual({
      agentNode: layout.AGENT_NODE,
      agentScript: layout.AGENT_SCRIPT,
      accessGroups: [layout.GROUPS.diagnostics, layout.GROUPS.repair],
      endpoint: layout.ENDPOINT_NAME,
    });
    // The records' places and formats are the agent's alone.
    expect(result.variables).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/DataFolder|DesiredState|History|Transcript|EventSource|TaskFolder/)]),
    );
    expect(result.commands).toEqual([
      'Disable-RemoteSupport',
      'Get-RemoteSupportAccess',
      'Get-RemoteSupportLogCollectionHistory',
      'Get-RemoteSupportSessionHistory',
    ]);
    for (const name of result.commands) expect(result.synopses[name]).toMatch(/^[A-Z].{20,}/);
  });
});

describe('Get-RemoteSupportLogCollectionHistory', () => {
  it('lists the log collections from their records, newest first, with the outcome, consent, blob and no other history kind', async () => {
    const m = await machine(WITH_CHANNEL);
    const record = (collectionId: string, startedAt: Date, outcome: LogCollectionRecord['outcome']): LogCollectionRecord => ({
      collectionId,
      trigger: 'owner',
      requestedBy: 'the machine owner (extension settings)',
      requestedAt: formatUtc(startedAt),
      window: { from: formatUtc(at(-DAY / 2)), to: formatUtc(at(-DAY / 4)) },
      categories: ['ArcAgent', 'EventLogs'],
      includeSecurityLog: false,
      grantId: null,
      supportRequestId: null,
      consent: 'owner request',
      startedAt: formatUtc(startedAt),
      endedAt: formatUtc(new Date(startedAt.getTime() + 60_000)),
      outcome,
      detail: outcome === 'uploaded' ? '2 file(s) and 9 skipped source(s) listed in its manifest.json' : 'the upload SAS expired',
      container: outcome === 'uploaded' ? 'contosologs/support' : null,
      blobName: outcome === 'uploaded' ? 'arc-node-1/20261124T180000Z-x.zip' : null,
      bundleBytes: outcome === 'uploaded' ? 4096 : null,
      fileCount: outcome === 'uploaded' ? 2 : null,
      skippedCount: outcome === 'uploaded' ? 9 : null,
      bundleSha256: null,
    });
    const older = record('11111111-2222-4333-8444-555555555555', at(-3 * 60 * 60_000), 'failed');
    const newer = record('66666666-7777-4888-9999-000000000000', at(-60 * 60_000), 'uploaded');
    const outcomes = await new SimulatedHost(m.modelPath).execute(
      [
        op('ensureDirectory', { path: layout.LOG_COLLECTIONS_FOLDER }),
        ...[older, newer].map((entry) =>
          op('writeFile', { path: logCollectionRecordPath(entry.collectionId), content: serializeLogCollectionRecord(entry) }),
        ),
      ],
      { phase: 'the collect-logs agent' },
    );
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);

    const { output, errors } = await m.run('Get-RemoteSupportLogCollectionHistory');
    expect(errors).toEqual([]);
    expect(output.map((entry: any) => [entry.CollectionId, entry.Outcome])).toEqual([
      [newer.collectionId, 'uploaded'],
      [older.collectionId, 'failed'],
    ]);
    expect(output[0]).toMatchObject({
      Trigger: 'owner',
      Consent: 'owner request',
      GrantId: null,
      Categories: ['ArcAgent', 'EventLogs'],
      Container: 'contosologs/support',
      BlobName: newer.blobName,
      BundleBytes: 4096,
      FileCount: 2,
      SkippedCount: 9,
      Path: logCollectionRecordPath(newer.collectionId),
    });
    expect(time(output[0].StartedAt)).toBe(at(-60 * 60_000).getTime());
    expect(output[1]).toMatchObject({ Detail: 'the upload SAS expired', BlobName: null });

    const recent = await m.run(`Get-RemoteSupportLogCollectionHistory -FromDate '${formatUtc(at(-2 * 60 * 60_000))}'`);
    expect(recent.output.map((entry: any) => entry.CollectionId)).toEqual([newer.collectionId]);
  });
});
