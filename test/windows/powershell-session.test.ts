/**
 * The channel's session script (windows/powershell/ChannelSession.ps1) through its launcher
 * (windows/powershell-session.ts), in the real pwsh against stand-ins: Set-LocalUser and
 * New-PSSession work on the machine model, and the JEA session New-PSSession opens is a runspace
 * built from our generated session configuration and role capabilities with the role verifier
 * saying the principal is in its model groups (test/support/jea/JeaRunspace.psm1, the role proofs'
 * harness). The Windows commands inside are the role proofs' stand-ins (services: a fake table).
 *
 * Where this differs from a node: the runspace is local, not over WinRM (so no password check:
 * the model keeps none); RunAsVirtualAccount is not applied.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { DATA_FOLDER, GROUPS, JEA_MODULE_NAME, SESSION_CONFIGURATION_FILE } from '../../core/node-layout';
import { generateJeaFiles } from '../../jea/generate';
import { generateSessionConfiguration } from '../../jea/session-configuration';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import type { JeaOutputStream, JeaSession } from '../../windows/jea-session';
import { PowerShellSessionLauncher } from '../../windows/powershell-session';
import { findPwsh, makeTempDir } from '../support/cms';
import { installJeaStandIns, installModule } from '../support/jea-proof';
import { SERVICE_TABLE } from '../support/jea/proofs';

const REPO = path.resolve(__dirname, '..', '..');
const NODE = 'ARC-NODE-1';
const ENDPOINT = 'ArcRemoteSupport';
const DIAGNOSTICS_USER = 'ArcRS-3f2b8c1e';
const REPAIR_USER = 'ArcRS-0a1b2c3d';
const NO_GROUP_USER = 'ArcRS-99999999';

/** The node's C: drive folder for a Windows path under C:\. */
function onDrive(drives: string, windowsPath: string): string {
  return path.join(drives, NODE, 'C', ...windowsPath.slice(3).split('\\'));
}

interface Ran {
  ok: boolean;
  error?: string;
  lines: Array<{ stream: JeaOutputStream; text: string }>;
}

async function run(session: JeaSession, command: string, signal = new AbortController().signal): Promise<Ran> {
  const lines: Ran['lines'] = [];
  const result = await session.run(command, (stream, text) => lines.push({ stream, text }), signal);
  return { ...result, lines };
}

const textOf = (ran: Ran, stream: JeaOutputStream) =>
  ran.lines
    .filter((line) => line.stream === stream)
    .map((line) => line.text)
    .join('\n');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('ChannelSession.ps1 through the PowerShell session launcher (real pwsh, stand-in Windows and JEA)', () => {
  let work: string;
  let modelPath: string;
  let launcher: PowerShellSessionLauncher;
  const open: JeaSession[] = [];

  const openAs = async (userName: string) => {
    const session = await launcher.open({ userName, configurationName: ENDPOINT, sessionId: `test-${userName}` });
    open.push(session);
    return session;
  };

  beforeAll(async () => {
    work = await makeTempDir('ars-channel-session');
    const drives = path.join(work, 'drives');
    const jea = generateJeaFiles();
    const statePath = await installJeaStandIns(findPwsh(), path.join(work, 'jea'), jea.roles, SERVICE_TABLE);
    await installModule(jea, path.dirname(onDrive(drives, `C:\\Program Files\\WindowsPowerShell\\Modules\\${JEA_MODULE_NAME}`)));
    await fs.mkdir(onDrive(drives, DATA_FOLDER), { recursive: true });
    await fs.writeFile(onDrive(drives, SESSION_CONFIGURATION_FILE), generateSessionConfiguration(NODE), 'ascii');

    const model = createDefaultMachine({ nowUtc: '2026-11-24T20:00:00Z' });
    const node = model.nodes[NODE]!;
    for (const name of [DIAGNOSTICS_USER, REPAIR_USER, NO_GROUP_USER]) {
      node.users[name.toLowerCase()] = {
        name,
        description: 'Arc remote support',
        passwordNeverExpires: true,
        userMayChangePassword: false,
        passwordLastSetUtc: '2026-11-24T19:00:00Z',
      };
    }
    node.groups[GROUPS.diagnostics.toLowerCase()] = {
      name: GROUPS.diagnostics,
      description: '',
      members: [`${NODE}\\${DIAGNOSTICS_USER}`],
    };
    node.groups[GROUPS.repair.toLowerCase()] = { name: GROUPS.repair, description: '', members: [`${NODE}\\${REPAIR_USER}`] };
    node.sessionConfigurations[ENDPOINT.toLowerCase()] = { name: ENDPOINT, configFilePath: SESSION_CONFIGURATION_FILE };
    modelPath = path.join(work, 'machine.json');
    await writeMachine(modelPath, model);

    launcher = new PowerShellSessionLauncher({
      powershellExe: findPwsh(),
      scriptsDir: path.join(REPO, 'windows', 'powershell'),
      entryScript: path.join(REPO, 'test', 'powershell', 'Invoke-ChannelSessionWithStandIn.ps1'),
      env: { ARS_MACHINE_MODEL: modelPath, ARS_MACHINE_ROOT: drives, ARS_JEA_STANDINS: statePath, ARS_STANDIN_COUNTER_WAITS: '1' },
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(open.map((session) => session.close()));
    await fs.rm(work, { recursive: true, force: true });
  });

  it('opens as a Diagnostics principal with a fresh password, runs a visible command and streams its output', async () => {
    const before = (await readMachine(modelPath)).nodes[NODE]!;
    const session = await openAs(DIAGNOSTICS_USER);
    expect(alive(session.processId)).toBe(true);
    const node = (await readMachine(modelPath)).nodes[NODE]!;
    // A new password was set for the session (the stand-in records only when).
    expect(node.users[DIAGNOSTICS_USER.toLowerCase()]!.passwordLastSetUtc).not.toBe(
      before.users[DIAGNOSTICS_USER.toLowerCase()]!.passwordLastSetUtc,
    );
    // The JEA session is a WinRM shell of the endpoint, as the principal.
    expect(node.sessions).toEqual([expect.objectContaining({ configurationName: ENDPOINT, user: `${NODE}\\${DIAGNOSTICS_USER}` })]);

    const ran = await run(session, 'Get-Service -Name Spooler');
    expect(ran).toMatchObject({ ok: true });
    expect(textOf(ran, 'output')).toMatch(/Spooler/);
    expect(textOf(ran, 'error')).toBe('');
  }, 120_000);

  it('refuses a Repair command at Diagnostics and runs it at DiagnosticsAndRepair, with JEA wording', async () => {
    const diagnostics = open[0] ?? (await openAs(DIAGNOSTICS_USER));
    const refused = await run(diagnostics, 'Restart-Service -Name Spooler');
    expect(refused.ok).toBe(false);
    expect(textOf(refused, 'error')).toMatch(/The term 'Restart-Service' is not recognized as (the )?(a )?name of a cmdlet/);

    const repair = await openAs(REPAIR_USER);
    const accepted = await run(repair, 'Restart-Service -Name Spooler');
    expect(accepted).toEqual({ ok: true, lines: [] });
    // A protected service stays out of reach even at Repair: the role's pattern refuses it.
    const protectedOne = await run(repair, 'Restart-Service -Name WinRM');
    expect(protectedOne.ok).toBe(false);
    expect(textOf(protectedOne, 'error')).toMatch(/Cannot validate argument on parameter 'Name'/);
  }, 120_000);

  it('refuses language: an assignment, a script block pipeline, a subexpression; statements run as the client sends them', async () => {
    const session = open[0] ?? (await openAs(DIAGNOSTICS_USER));
    for (const line of ['$x = 1', 'Get-Service | % { $_ }', '"$(Get-Date)"', 'Get-Service -Name (Get-Date)']) {
      const ran = await run(session, line);
      expect({ line, ok: ran.ok }).toEqual({ line, ok: false });
      expect(textOf(ran, 'error')).toMatch(/not supported by this runspace|is not recognized/);
      expect(ran.error ?? textOf(ran, 'error')).not.toBe('');
    }
    // The session still works afterwards; two statements are two commands, each checked by JEA.
    const two = await run(session, 'Get-Service -Name W32Time; Get-Service -Name Dnscache');
    expect(two.ok).toBe(true);
    expect(textOf(two, 'output')).toMatch(/W32Time[\s\S]*Dnscache/);
    const second = await run(session, 'Get-Service -Name W32Time; Restart-Service -Name W32Time');
    expect(second.ok).toBe(false);
    expect(textOf(second, 'error')).toMatch(/Restart-Service' is not recognized/);
  }, 120_000);

  it('refuses a principal outside the level groups, an unknown principal and an unknown endpoint, clearly', async () => {
    await expect(openAs(NO_GROUP_USER)).rejects.toThrow(/ArcRS-99999999.*did not open: .*Access is denied/);
    await expect(openAs('ArcRS-deadbeef')).rejects.toThrow(/did not open: .*User ArcRS-deadbeef was not found/);
    await expect(launcher.open({ userName: DIAGNOSTICS_USER, configurationName: 'Nope', sessionId: 's' })).rejects.toThrow(
      /Cannot find the Nope session configuration/,
    );
    await expect(launcher.open({ userName: 'a b', configurationName: ENDPOINT, sessionId: 's' })).rejects.toThrow(/userName 'a b'/);
  }, 120_000);

  it('streams output as it comes, cancels a long command, then runs the next one', async () => {
    const session = open[0] ?? (await openAs(DIAGNOSTICS_USER));
    const counter = "Get-Counter -Counter '\\Processor(_Total)\\% Processor Time' -SampleInterval 1 -MaxSamples";
    const arrivals: number[] = [];
    const started = Date.now();
    const streamed = await session.run(`${counter} 3`, () => arrivals.push(Date.now() - started), new AbortController().signal);
    expect(streamed).toEqual({ ok: true });
    // Each sample arrived about a second after the previous one, not all at the end.
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    expect(arrivals[arrivals.length - 1]! - arrivals[0]!).toBeGreaterThan(1_200);

    const controller = new AbortController();
    const long = run(session, `${counter} 600`, controller.signal);
    setTimeout(() => controller.abort(), 1_500);
    const cancelledAt = Date.now();
    const ran = await long;
    expect(ran).toMatchObject({ ok: false, error: 'The command was cancelled.' });
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(await run(session, 'Get-Service -Name Spooler')).toMatchObject({ ok: true });
  }, 120_000);

  it('close ends the session process and removes the JEA session', async () => {
    const shells = async () => (await readMachine(modelPath)).nodes[NODE]!.sessions.length;
    const before = await shells();
    const session = await openAs(DIAGNOSTICS_USER);
    expect(await shells()).toBe(before + 1);
    await session.close();
    expect(alive(session.processId)).toBe(false);
    await expect(session.ended).resolves.toEqual({ reason: 'closed' });
    expect(await shells()).toBe(before);
  }, 120_000);

  it('reports a session process killed from outside as ended', async () => {
    const session = await openAs(REPAIR_USER);
    process.kill(session.processId, 'SIGKILL');
    const { reason } = await session.ended;
    expect(reason).toMatch(new RegExp(`session process ${session.processId} ended \\(signal SIGKILL\\)`));
    expect(await run(session, 'Get-Service -Name Spooler')).toMatchObject({ ok: false });
  }, 120_000);
});
