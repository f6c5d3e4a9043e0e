/**
 * The simulated machine's JEA sessions (sim/windows/simulated-session.ts): opened as a principal of
 * the model, limited by the generated roles of its group, running on the model's services, and
 * ending by themselves when the Expire task's operations (or power) take the session away.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { AGENT_SCRIPT, ENDPOINT_NAME, GROUPS } from '../../core/node-layout';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { powerOff } from '../../sim/windows/machine-events';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { SimulatedSessionLauncher } from '../../sim/windows/simulated-session';
import { simulatorBundle } from '../../sim/windows/simulator-bundle';
import { op } from '../../windows/operations';
import { CHANNEL_SESSION_SCRIPT, type JeaOutputStream, type JeaSession } from '../../windows/jea-session';
import { makeTempDir } from '../support/cms';

const NODE = 'ARC-NODE-1';
const DIAGNOSTICS_USER = 'ArcRS-3f2b8c1e';
const REPAIR_USER = 'ArcRS-0a1b2c3d';

interface Ran {
  ok: boolean;
  error?: string;
  output: string;
  errors: string;
}

async function run(session: JeaSession, command: string, signal = new AbortController().signal): Promise<Ran> {
  const lines: Array<{ stream: JeaOutputStream; text: string }> = [];
  const result = await session.run(command, (stream, text) => lines.push({ stream, text }), signal);
  const of = (stream: JeaOutputStream) =>
    lines
      .filter((line) => line.stream === stream)
      .map((line) => line.text)
      .join('\n');
  return { ...result, output: of('output'), errors: of('error') };
}

describe('simulated JEA sessions', () => {
  let work: string;
  let modelPath: string;
  let launcher: SimulatedSessionLauncher;
  const open: JeaSession[] = [];
  const node = async () => (await readMachine(modelPath)).nodes[NODE]!;
  const openAs = async (userName: string) => {
    const session = await launcher.open({ userName, configurationName: ENDPOINT_NAME, sessionId: `s-${userName}` });
    open.push(session);
    return session;
  };

  beforeEach(async () => {
    work = await makeTempDir('ars-sim-session');
    modelPath = path.join(work, 'machine.json');
    const model = createDefaultMachine({ nowUtc: '2026-11-24T20:00:00Z' });
    const n = model.nodes[NODE]!;
    for (const name of [DIAGNOSTICS_USER, REPAIR_USER, 'ArcRS-99999999']) {
      n.users[name.toLowerCase()] = {
        name,
        description: 'Arc remote support',
        passwordNeverExpires: true,
        userMayChangePassword: false,
        passwordLastSetUtc: '2026-11-24T19:00:00Z',
      };
    }
    n.groups[GROUPS.diagnostics.toLowerCase()] = { name: GROUPS.diagnostics, description: '', members: [`${NODE}\\${DIAGNOSTICS_USER}`] };
    n.groups[GROUPS.repair.toLowerCase()] = { name: GROUPS.repair, description: '', members: [`${NODE}\\${REPAIR_USER}`] };
    n.sessionConfigurations[ENDPOINT_NAME.toLowerCase()] = {
      name: ENDPOINT_NAME,
      configFilePath: 'C:\\ProgramData\\ArcRemoteSupport\\ArcRemoteSupport.pssc',
    };
    await writeMachine(modelPath, model);
    launcher = new SimulatedSessionLauncher(modelPath, { pollMs: 50, simulator: await simulatorBundle() });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((session) => session.close()));
    await fs.rm(work, { recursive: true, force: true });
  });

  it('records the session process and the WinRM shell, gives the principal a new password, and removes both on close', async () => {
    await writeMachine(modelPath, { ...(await readMachine(modelPath)), clock: { nowUtc: '2026-11-24T20:05:00Z' } });
    const session = await openAs(DIAGNOSTICS_USER);
    const opened = await node();
    expect(opened.processes).toEqual([
      {
        id: session.processId,
        name: 'powershell.exe',
        commandLine: expect.stringContaining(
          `\\${CHANNEL_SESSION_SCRIPT}" -UserName ${DIAGNOSTICS_USER} -ConfigurationName ${ENDPOINT_NAME}`,
        ),
        startedAtUtc: '2026-11-24T20:05:00Z',
      },
    ]);
    expect(opened.sessions).toEqual([expect.objectContaining({ configurationName: ENDPOINT_NAME, user: `${NODE}\\${DIAGNOSTICS_USER}` })]);
    expect(opened.users[DIAGNOSTICS_USER.toLowerCase()]!.passwordLastSetUtc).toBe('2026-11-24T20:05:00Z');
    expect(JSON.stringify(opened)).not.toMatch(/"password"\s*:/i);

    await session.close();
    await expect(session.ended).resolves.toEqual({ reason: 'closed' });
    expect((await node()).processes).toEqual([]);
    expect((await node()).sessions).toEqual([]);
    expect(await run(session, 'Get-Service')).toMatchObject({ ok: false, error: expect.stringMatching(/ended: closed/) });
  });

  it('runs Diagnostics commands on the model and refuses Repair ones with JEA wording', async () => {
    const session = await openAs(DIAGNOSTICS_USER);
    const spooler = await run(session, 'Get-Service -Name Spooler');
    expect(spooler).toMatchObject({ ok: true, errors: '' });
    expect(spooler.output).toMatch(/Running\s+Spooler\s+Print Spooler/);
    expect((await run(session, 'get-service w*')).output).toMatch(/W32Time[\s\S]*WinRM[\s\S]*wuauserv/);
    expect(await run(session, 'Get-Service -Name NoSuchService')).toMatchObject({
      ok: false,
      errors: "Cannot find any service with service name 'NoSuchService'.",
    });
    const listed = await run(session, 'Get-Command');
    expect(listed.output).toMatch(/Get-Service/);
    expect(listed.output).not.toMatch(/Restart-Service/);

    const refused = await run(session, 'Restart-Service -Name Spooler');
    expect(refused).toMatchObject({
      ok: false,
      errors: expect.stringMatching(
        /^The term 'Restart-Service' is not recognized as the name of a cmdlet, function, script file, or operable program\./,
      ),
    });
    expect((await node()).services.find((s) => s.name === 'Spooler')!.status).toBe('Running');
  });

  it('runs Repair commands at DiagnosticsAndRepair, changing the model, within the role patterns', async () => {
    const session = await openAs(REPAIR_USER);
    expect(await run(session, 'Stop-Service -Name Spooler')).toMatchObject({ ok: true });
    expect((await node()).services.find((s) => s.name === 'Spooler')!.status).toBe('Stopped');
    expect((await run(session, 'Get-Service Spooler')).output).toMatch(/Stopped\s+Spooler/);
    expect(await run(session, 'Start-Service -Name Spooler')).toMatchObject({ ok: true });
    expect((await node()).services.find((s) => s.name === 'Spooler')!.status).toBe('Running');
    // A protected service: the generated pattern refuses it, and the model is untouched.
    const winrm = await run(session, 'Restart-Service -Name WinRM');
    expect(winrm.ok).toBe(false);
    expect(winrm.errors).toMatch(
      /^Cannot validate argument on parameter 'Name'\. The argument "WinRM" does not match the "\^\(.*\)\$" pattern\./,
    );
    // A parameter the role does not list.
    expect((await run(session, 'Restart-Service -Name Spooler -Force')).errors).toBe(
      "A parameter cannot be found that matches parameter name 'Force'.",
    );
    expect((await run(session, 'Get-EventLog -LogName Security')).errors).toMatch(/does not belong to the set "Application,System"/);
  });

  it('refuses language as a NoLanguage runspace does', async () => {
    const session = await openAs(DIAGNOSTICS_USER);
    for (const line of [
      '$x = 1',
      'Get-Service | % { $_ }',
      'Get-Service; Get-Process',
      'Get-Service -Name "$env:X"',
      'Get-Service -Name (Get-Date)',
    ]) {
      expect({ line, ...(await run(session, line)) }).toMatchObject({
        line,
        ok: false,
        errors: 'The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode.',
      });
    }
  });

  it('refuses to open for a principal outside the level groups, a missing principal or endpoint, saying which', async () => {
    await expect(openAs('ArcRS-99999999')).rejects.toThrow(
      /'ArcRS-99999999'.*did not open: Access is denied: ARC-NODE-1\\ArcRS-99999999 is in no access level group/,
    );
    await expect(openAs('ArcRS-deadbeef')).rejects.toThrow(/did not open: User ArcRS-deadbeef was not found/);
    await expect(launcher.open({ userName: DIAGNOSTICS_USER, configurationName: 'Other', sessionId: 's' })).rejects.toThrow(
      /no session configuration 'Other'/,
    );
    expect((await node()).processes).toEqual([]);
  });

  it('ends by itself when the Expire task ends its process, when the principal is deleted, or when its shell is ended', async () => {
    const host = new SimulatedHost(modelPath);
    const measure = async (session: JeaSession, act: () => Promise<unknown>) => {
      const started = Date.now();
      await act();
      const { reason } = await session.ended;
      return { reason, ms: Date.now() - started };
    };

    const first = await openAs(DIAGNOSTICS_USER);
    const byProcess = await measure(first, () =>
      host.execute([op('endChannelSessionProcesses', { scriptName: CHANNEL_SESSION_SCRIPT })], { phase: 'expire' }),
    );
    expect(byProcess.reason).toBe(`the session process ${first.processId} was ended`);
    expect(byProcess.ms).toBeLessThan(250);

    const second = await openAs(REPAIR_USER);
    const byPrincipal = await measure(second, () => host.execute([op('removeLocalUser', { name: REPAIR_USER })], { phase: 'expire' }));
    expect(byPrincipal.reason).toBe(`the principal ${REPAIR_USER} was deleted`);
    expect(byPrincipal.ms).toBeLessThan(250);

    const third = await openAs(DIAGNOSTICS_USER);
    const byShell = await measure(third, () =>
      host.execute([op('endSessions', { configurationName: ENDPOINT_NAME })], { phase: 'expire' }),
    );
    expect(byShell.reason).toMatch(/JEA session \(WinRM shell .*\) was ended/);

    const fourth = await openAs(DIAGNOSTICS_USER);
    await powerOff(modelPath, NODE);
    expect((await fourth.ended).reason).toMatch(/stopped/);
    // Nothing of the sessions is left.
    expect((await node()).processes).toEqual([]);
    expect((await node()).sessions).toEqual([]);
  });

  describe("the engineer's log collection functions", () => {
    const COLLECTION_ID = '0b5e3c1a-7d2f-4e8a-9c61-2f4d8e1a7b30';
    const RUNNING_ID = '9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
    let callsFile: string;

    /** The node's installed agent, a stand-in: records each call's arguments and host, answers as the agent would. */
    async function installStandInAgent(): Promise<void> {
      callsFile = path.join(work, 'agent-calls.jsonl');
      const script = path.join(work, 'agent.js');
      await fs.writeFile(
        script,
        [
          "const fs = require('fs');",
          'const argv = process.argv.slice(2);',
          `fs.appendFileSync(${JSON.stringify(callsFile)}, JSON.stringify({ argv, host: process.env.ARC_REMOTE_SUPPORT_HOST }) + '\\n');`,
          "if (argv[0] === 'history') {",
          `  console.log(JSON.stringify({ entry: { kind: 'LogCollection', logCollection: { collectionId: '${COLLECTION_ID}', trigger: 'engineer', requestedBy: 'x', outcome: 'uploaded', startedAt: '2026-11-24T19:00:00.000Z' } } }));`,
          "  console.log(JSON.stringify({ entry: { kind: 'Granted', by: 'owner' } }));",
          "} else if (argv.join(' ').includes('Cluster')) {",
          `  console.error('Refused: log collection ${RUNNING_ID} is running on this node; one collection at a time.');`,
          '  process.exitCode = 3;',
          '} else {',
          `  console.log('Log collection ${COLLECTION_ID} requested: the SYSTEM agent collects and uploads it.');`,
          '}',
        ].join('\n'),
      );
      const model = await readMachine(modelPath);
      model.nodes[NODE]!.files[AGENT_SCRIPT.toLowerCase()] = {
        path: AGENT_SCRIPT,
        type: 'file',
        copiedFrom: { source: script, sha256: 'stand-in' },
        lastWriteTimeUtc: '2026-11-24T19:00:00Z',
      };
      await writeMachine(modelPath, model);
    }

    const calls = async (): Promise<Array<{ argv: string[]; host: string }>> => {
      const text = await fs.readFile(callsFile, 'utf8').catch(() => '');
      await fs.rm(callsFile, { force: true });
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { argv: string[]; host: string });
    };

    beforeEach(installStandInAgent);

    it('Request-RemoteSupportLogCollection runs the installed agent with the window, the categories and the connected user', async () => {
      const session = await openAs(DIAGNOSTICS_USER);
      const fixed = await run(
        session,
        'Request-RemoteSupportLogCollection -Category EventLogs,ArcAgent,EventLogs -From 2026-11-24T12:00Z -To 2026-11-24T18:00:30Z',
      );
      expect(fixed).toMatchObject({
        ok: true,
        errors: '',
        output: `Log collection ${COLLECTION_ID} requested: the SYSTEM agent collects and uploads it.`,
      });
      expect(await calls()).toEqual([
        {
          argv: [
            'request-log-collection',
            '--from',
            '2026-11-24T12:00:00Z',
            '--to',
            '2026-11-24T18:00:30Z',
            '--category',
            'EventLogs,ArcAgent',
            '--requested-by',
            `${NODE}\\${DIAGNOSTICS_USER}`,
          ],
          host: `simulated:${modelPath}#${NODE}`,
        },
      ]);
      // -Hours: the last hours by the node's clock; positional -Category; DiagnosticsAndRepair has it too.
      const repair = await openAs(REPAIR_USER);
      expect(await run(repair, 'Request-RemoteSupportLogCollection WindowsUpdate -Hours 2')).toMatchObject({ ok: true });
      expect((await calls()).map((c) => c.argv)).toEqual([
        [
          'request-log-collection',
          '--from',
          '2026-11-24T18:00:00Z',
          '--to',
          '2026-11-24T20:00:00Z',
          '--category',
          'WindowsUpdate',
          '--requested-by',
          `${NODE}\\${REPAIR_USER}`,
        ],
      ]);
    });

    it('refuses a window or a value outside the function before the agent is called, with the reason', async () => {
      const session = await openAs(DIAGNOSTICS_USER);
      const cases: Array<[string, RegExp]> = [
        ['-Category EventLogs -From 2026-11-23T12:00Z -To 2026-11-24T12:01Z', /is 24\.01666\d* hours: a window is at most 24 hours\.$/],
        [
          '-Category EventLogs -From 2026-11-24T19:00Z -To 2026-11-24T20:01Z',
          /^-To 2026-11-24T20:01Z is after now \(2026-11-24T20:00:00Z\)/,
        ],
        [
          '-Category EventLogs -From 2026-11-24T12:00Z -To 2026-11-24T12:00Z',
          /^-From 2026-11-24T12:00Z is not before -To 2026-11-24T12:00Z/,
        ],
        [
          '-Category EventLogs -From 2026-02-30T00:00Z -To 2026-03-01T00:00Z',
          /^-From '2026-02-30T00:00Z' is not a date and time\. Give -Hours/,
        ],
        ['-Category EventLogs', /^No window was given\. Give -Hours \(1 to 24/],
        ['-Category EventLogs -Hours 1 -From 2026-11-24T12:00Z -To 2026-11-24T13:00Z', /^-Hours 1 was given with -From or -To\./],
        ['-Category EventLogs -Hours 0', /^Cannot validate argument on parameter 'Hours'\. The argument "0" does not match/],
        ['-Category EventLogs -Hours 25', /^Cannot validate argument on parameter 'Hours'\. The argument "25" does not match/],
        [
          '-Category EventLogs,Security -Hours 1',
          /^Cannot validate argument on parameter 'Category'\. The argument "Security" does not belong to the set/,
        ],
        ['-Category EventLogs -From "2026-11-24 12:00" -To 2026-11-24T13:00Z', /^Cannot validate argument on parameter 'From'/],
        [
          '-Category EventLogs -From 2026-11-24T12:00Z,2026-11-24T13:00Z -To 2026-11-24T14:00Z',
          /^Cannot process argument transformation on parameter 'From'/,
        ],
        ['-Category EventLogs -Hours 1 -Path C:\\Windows', /^A parameter cannot be found that matches parameter name 'Path'\.$/],
        ['-Category EventLogs -Hours 1 -RequestedBy someone', /^A parameter cannot be found that matches parameter name 'RequestedBy'\.$/],
        ['-Hours 1', /^Cannot process command because of one or more missing mandatory parameters: Category\.$/],
      ];
      for (const [args, message] of cases) {
        const ran = await run(session, `Request-RemoteSupportLogCollection ${args}`);
        expect({ args, ok: ran.ok, errors: ran.errors }).toEqual({ args, ok: false, errors: expect.stringMatching(message) });
      }
      expect(await calls()).toEqual([]);
    });

    it("the agent's refusal is the error; a node without the agent says so", async () => {
      const session = await openAs(DIAGNOSTICS_USER);
      const refused = await run(session, 'Request-RemoteSupportLogCollection -Category Cluster -Hours 1');
      expect(refused).toMatchObject({
        ok: false,
        errors: `Refused: log collection ${RUNNING_ID} is running on this node; one collection at a time.`,
      });
      expect(await calls()).toHaveLength(1);
      const model = await readMachine(modelPath);
      delete model.nodes[NODE]!.files[AGENT_SCRIPT.toLowerCase()];
      await writeMachine(modelPath, model);
      expect((await run(session, 'Request-RemoteSupportLogCollection -Category EventLogs -Hours 1')).errors).toBe(
        `The node agent is missing (${AGENT_SCRIPT} does not exist on ${NODE}): ask the machine owner to reinstall the ArcRemoteSupport extension.`,
      );
    });

    it('Get-RemoteSupportLogCollectionHistory lists the log collections only, from the agent history --json', async () => {
      const session = await openAs(DIAGNOSTICS_USER);
      const history = await run(session, 'Get-RemoteSupportLogCollectionHistory');
      expect(history).toMatchObject({ ok: true, errors: '' });
      expect(history.output).toMatch(new RegExp(`2026-11-24T19:00:00.000Z\\s+${COLLECTION_ID}\\s+engineer\\s+x\\s+uploaded`));
      expect(history.output).not.toMatch(/Granted/);
      expect((await calls()).map((c) => c.argv)).toEqual([['history', '--json']]);
      expect((await run(session, 'Get-RemoteSupportLogCollectionHistory -FromDate 2026-01-01')).errors).toBe(
        "A parameter cannot be found that matches parameter name 'FromDate'.",
      );
    });

    it('a comma list binds each value: Get-Service -Name Spooler,W32Time', async () => {
      const session = await openAs(DIAGNOSTICS_USER);
      const both = await run(session, 'Get-Service -Name Spooler, W32Time');
      expect(both.output).toMatch(/Spooler[\s\S]*W32Time/);
      expect((await run(session, 'Get-Service,Spooler')).errors).toMatch(/no-language mode/);
    });
  });
});
