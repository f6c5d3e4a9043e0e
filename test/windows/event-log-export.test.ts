/**
 * exportEventLog in the real PowerShell (pwsh, the bridge and its module unchanged) against the
 * stand-in Windows and a stand-in wevtutil.exe (test/powershell/bin) that records its arguments:
 * the exact command line for channel names with '/' and spaces, an absent channel answered from
 * `wevtutil el` without an export, a failed export named with its channel and exit code, and bad
 * fields refused before wevtutil runs. (contract.test.ts compares its results with the simulator's.)
 */
import { promises as fs, readFileSync } from 'fs';
import path from 'path';
import { LOG_EXPORT_FOLDER } from '../../core/node-layout';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { EVENT_EXPORT_FOLDER, op } from '../../windows/operations';
import type { OperationOutcome } from '../../windows/port';
import { PowerShellHost } from '../../windows/powershell-host';
import { findPwsh, makeTempDir } from '../support/cms';

const REPO = path.resolve(__dirname, '..', '..');
const QUERY = "*[System[TimeCreated[@SystemTime>='2026-11-24T18:00:00.000Z' and @SystemTime<='2026-11-24T20:00:00.000Z']]]";

let work: string;
let wevtutilLog: string;

beforeEach(async () => {
  work = await makeTempDir('ars-event-export');
  wevtutilLog = path.join(work, 'wevtutil.log');
  const machine = createDefaultMachine({ nowUtc: '2026-11-24T20:00:00Z' });
  machine.nodes['ARC-NODE-1']!.eventLogs!['Windows PowerShell'] = [];
  await writeMachine(path.join(work, 'machine.json'), machine);
});
afterEach(() => fs.rm(work, { recursive: true, force: true }));

function host(env: Record<string, string> = {}): PowerShellHost {
  return new PowerShellHost({
    powershellExe: findPwsh(),
    scriptsDir: path.join(REPO, 'windows', 'powershell'),
    entryScript: path.join(REPO, 'test', 'powershell', 'Invoke-BridgeWithStandIn.ps1'),
    env: {
      ARS_MACHINE_MODEL: path.join(work, 'machine.json'),
      ARS_MACHINE_ROOT: path.join(work, 'drives'),
      ARS_WEVTUTIL_LOG: wevtutilLog,
      ...env,
    },
  });
}

/** Each wevtutil.exe run's arguments, in order. */
async function wevtutilCalls(): Promise<string[][]> {
  const text = await fs.readFile(wevtutilLog, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);
}

/** Where the stand-in's C: drive keeps a node path. */
const local = (windowsPath: string) => path.join(work, 'drives', 'ARC-NODE-1', ...windowsPath.split('\\').map((s) => s.replace(':', '')));

const errorOf = (outcome: OperationOutcome | undefined) => (outcome && !outcome.ok ? outcome.error : null);

describe('exportEventLog in PowerShell with a stand-in wevtutil.exe', () => {
  it('runs wevtutil epl <channel> <file> /q:<query> /ow:true, each a whole argument, for names with / and spaces', async () => {
    const winrm = `${EVENT_EXPORT_FOLDER}\\event-winrm.evtx`;
    const powershell = `${EVENT_EXPORT_FOLDER}\\event-windows-powershell.evtx`;
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EVENT_EXPORT_FOLDER }),
        op('exportEventLog', { channel: 'Microsoft-Windows-WinRM/Operational', query: QUERY, path: winrm }),
        op('exportEventLog', { channel: 'Windows PowerShell', query: QUERY, path: powershell }),
      ],
      { phase: 'test' },
    );
    expect(outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.error))).toEqual([
      { created: true },
      { present: true, size: 0 },
      { present: true, size: 0 },
    ]);
    expect(await wevtutilCalls()).toEqual([
      ['el'],
      ['epl', 'Microsoft-Windows-WinRM/Operational', local(winrm), `/q:${QUERY}`, '/ow:true'],
      ['el'],
      ['epl', 'Windows PowerShell', local(powershell), `/q:${QUERY}`, '/ow:true'],
    ]);
  });

  it('answers a channel the node does not have as absent, from the list of channels, without exporting', async () => {
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EVENT_EXPORT_FOLDER }),
        op('exportEventLog', {
          channel: 'Microsoft-Windows-Hyper-V-VMMS-Admin',
          query: QUERY,
          path: `${EVENT_EXPORT_FOLDER}\\hyperv.evtx`,
        }),
      ],
      { phase: 'test' },
    );
    expect(outcomes[1]).toEqual({ ok: true, value: { present: false, size: 0 } });
    expect(await wevtutilCalls()).toEqual([['el']]);
  });

  it('fails an export that wevtutil refuses, naming the channel, the exit code and what wevtutil said', async () => {
    const outcomes = await host({ ARS_WEVTUTIL_FAIL: '5' }).execute(
      [
        op('ensureDirectory', { path: EVENT_EXPORT_FOLDER }),
        op('exportEventLog', { channel: 'System', query: QUERY, path: `${EVENT_EXPORT_FOLDER}\\event-system.evtx` }),
      ],
      { phase: 'test' },
    );
    expect(errorOf(outcomes[1])).toEqual({
      operation: 'exportEventLog',
      code: 'Failed',
      message: "wevtutil could not export the event log channel 'System' (exit code 5): Failed to export log. Access is denied.",
      target: 'System',
    });
  });

  it('refuses a channel, query or path outside its rules before wevtutil runs', async () => {
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EVENT_EXPORT_FOLDER }),
        op('exportEventLog', { channel: 'System" /f:xml "', query: QUERY, path: `${EVENT_EXPORT_FOLDER}\\a.evtx` }),
        op('exportEventLog', { channel: 'System', query: `${QUERY}" /ow:false "`, path: `${EVENT_EXPORT_FOLDER}\\a.evtx` }),
        op('exportEventLog', { channel: 'System', query: QUERY, path: 'C:\\Windows\\System32\\config\\SYSTEM.evtx' }),
        op('exportEventLog', { channel: 'System', query: QUERY, path: `${EVENT_EXPORT_FOLDER}\\Sub\\a.evtx` }),
      ],
      { phase: 'test', stopOnError: false },
    );
    expect(outcomes.slice(1).map((outcome) => errorOf(outcome)?.code)).toEqual([
      'InvalidRequest',
      'InvalidRequest',
      'InvalidRequest',
      'InvalidRequest',
    ]);
    expect(errorOf(outcomes[3])?.message).toBe(
      `The export path 'C:\\Windows\\System32\\config\\SYSTEM.evtx' is not a .evtx file directly in '${EVENT_EXPORT_FOLDER}'.`,
    );
    expect(await wevtutilCalls()).toEqual([]);
  });

  it("exports only into the agent's export folder, the same in the agent, the port and the PowerShell", () => {
    expect(EVENT_EXPORT_FOLDER).toBe(LOG_EXPORT_FOLDER);
    expect(readFileSync(path.join(REPO, 'windows', 'powershell', 'ArcRemoteSupport.Host.psm1'), 'utf8')).toContain(
      `$script:EventExportFolder = '${LOG_EXPORT_FOLDER}'`,
    );
  });
});
