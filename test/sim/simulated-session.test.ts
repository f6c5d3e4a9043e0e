/**
 * The simulated machine's JEA sessions (sim/windows/simulated-session.ts): opened as a principal of
 * the model, limited by the generated roles of its group, running on the model's services, and
 * ending by themselves when the Expire task's operations (or power) take the session away.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { ENDPOINT_NAME, GROUPS } from '../../core/node-layout';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { powerOff } from '../../sim/windows/machine-events';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { SimulatedSessionLauncher } from '../../sim/windows/simulated-session';
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
    launcher = new SimulatedSessionLauncher(modelPath, { pollMs: 50 });
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
});
