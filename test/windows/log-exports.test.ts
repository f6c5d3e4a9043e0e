/**
 * exportEventLog and writeGeneratedLog in the real PowerShell (pwsh, the bridge and its module
 * unchanged) against the stand-in Windows: a stand-in wevtutil.exe (test/powershell/bin) and
 * stand-in Get-ClusterLog and Get-WindowsUpdateLog that record their arguments. The exact command
 * line for channel names with '/' and spaces, an absent channel answered from `wevtutil el` without
 * an export, a failed export named with its channel and exit code, bad fields refused before
 * anything runs; the cluster log over the window's minutes in UTC, none on a node without the
 * cluster service. (contract.test.ts compares exportEventLog's results with the simulator's.)
 */
import { promises as fs, readFileSync } from 'fs';
import path from 'path';
import { LOG_EXPORT_FOLDER } from '../../core/node-layout';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { EXPORTED_LOGS_FOLDER, op, type OperationRequest } from '../../windows/operations';
import type { OperationOutcome } from '../../windows/port';
import { PowerShellHost } from '../../windows/powershell-host';
import { findPwsh, makeTempDir } from '../support/cms';

const REPO = path.resolve(__dirname, '..', '..');
const QUERY = "*[System[TimeCreated[@SystemTime>='2026-11-24T18:00:00.000Z' and @SystemTime<='2026-11-24T20:00:00.000Z']]]";

let work: string;
let wevtutilLog: string;
let standInCalls: string;

beforeEach(async () => {
  work = await makeTempDir('ars-event-export');
  wevtutilLog = path.join(work, 'wevtutil.log');
  standInCalls = path.join(work, 'stand-in-calls.log');
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
      ARS_STANDIN_CALLS: standInCalls,
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
    const winrm = `${EXPORTED_LOGS_FOLDER}\\event-winrm.evtx`;
    const powershell = `${EXPORTED_LOGS_FOLDER}\\event-windows-powershell.evtx`;
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
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
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        op('exportEventLog', {
          channel: 'Microsoft-Windows-Hyper-V-VMMS-Admin',
          query: QUERY,
          path: `${EXPORTED_LOGS_FOLDER}\\hyperv.evtx`,
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
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        op('exportEventLog', { channel: 'System', query: QUERY, path: `${EXPORTED_LOGS_FOLDER}\\event-system.evtx` }),
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
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        op('exportEventLog', { channel: 'System" /f:xml "', query: QUERY, path: `${EXPORTED_LOGS_FOLDER}\\a.evtx` }),
        op('exportEventLog', { channel: 'System', query: `${QUERY}" /ow:false "`, path: `${EXPORTED_LOGS_FOLDER}\\a.evtx` }),
        op('exportEventLog', { channel: 'System', query: QUERY, path: 'C:\\Windows\\System32\\config\\SYSTEM.evtx' }),
        op('exportEventLog', { channel: 'System', query: QUERY, path: `${EXPORTED_LOGS_FOLDER}\\Sub\\a.evtx` }),
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
      `The export path 'C:\\Windows\\System32\\config\\SYSTEM.evtx' is not a .evtx file directly in '${EXPORTED_LOGS_FOLDER}'.`,
    );
    expect(await wevtutilCalls()).toEqual([]);
  });

  it("exports only into the agent's export folder, the same in the agent, the port and the PowerShell", () => {
    expect(EXPORTED_LOGS_FOLDER).toBe(LOG_EXPORT_FOLDER);
    expect(readFileSync(path.join(REPO, 'windows', 'powershell', 'ArcRemoteSupport.Host.psm1'), 'utf8')).toContain(
      `$script:ExportedLogsFolder = '${LOG_EXPORT_FOLDER}'`,
    );
  });
});

/** Each stand-in cmdlet call: its name and parameters. */
async function cmdletCalls(): Promise<Array<{ command: string; parameters: Record<string, unknown> }>> {
  const text = await fs.readFile(standInCalls, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('writeGeneratedLog in PowerShell with stand-in Get-ClusterLog and Get-WindowsUpdateLog', () => {
  const clusterPath = `${EXPORTED_LOGS_FOLDER}\\cluster-log.log`;
  const updatePath = `${EXPORTED_LOGS_FOLDER}\\windows-update-log.log`;

  it("writes this node's cluster log over the minutes since the window's start, in UTC, and the Windows Update log without a flush", async () => {
    const since = new Date(Date.now() - 90 * 60_000).toISOString();
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: since, path: clusterPath }),
        op('writeGeneratedLog', { producer: 'windowsUpdateLog', sinceUtc: since, path: updatePath }),
      ],
      { phase: 'test' },
    );
    const clusterLog = await fs.readFile(local(clusterPath), 'utf8');
    const updateLog = await fs.readFile(local(updatePath), 'utf8');
    expect(outcomes.map((outcome) => (outcome.ok ? outcome.value : outcome.error))).toEqual([
      { created: true },
      { present: true, size: Buffer.byteLength(clusterLog) },
      { present: true, size: Buffer.byteLength(updateLog) },
    ]);
    const [cluster, update] = await cmdletCalls();
    expect(cluster).toEqual({
      command: 'Get-ClusterLog',
      parameters: { Node: ['ARC-NODE-1'], Destination: expect.any(String), TimeSpan: expect.any(Number), UseLocalTime: false },
    });
    // Whole minutes from the window's start to now (a minute may turn while the test runs).
    expect([90, 91]).toContain(cluster!.parameters.TimeSpan);
    expect(clusterLog).toBe(`stand-in cluster log of ARC-NODE-1, the last ${cluster!.parameters.TimeSpan} minutes\r\n`);
    // Get-ClusterLog's own folder inside the export folder is gone; only our file stays.
    expect(path.dirname(cluster!.parameters.Destination as string)).toBe(local(EXPORTED_LOGS_FOLDER));
    expect(await fs.readdir(local(EXPORTED_LOGS_FOLDER))).toEqual(['cluster-log.log', 'windows-update-log.log']);
    expect(update).toEqual({ command: 'Get-WindowsUpdateLog', parameters: { LogPath: local(updatePath), ForceFlush: false } });
  });

  it('answers a node without the cluster service as having no cluster log, without calling Get-ClusterLog', async () => {
    await writeMachine(path.join(work, 'machine.json'), createDefaultMachine({ nowUtc: '2026-11-24T20:00:00Z', nodes: 1 }));
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: '2026-11-24T19:00:00Z', path: clusterPath }),
      ],
      { phase: 'test' },
    );
    expect(outcomes[1]).toEqual({ ok: true, value: { present: false, size: 0 } });
    expect(await cmdletCalls()).toEqual([]);
  });

  it("fails when Get-ClusterLog fails, in its words, and leaves no folder of Get-ClusterLog's behind", async () => {
    const outcomes = await host({ ARS_STANDIN_FAIL: 'Get-ClusterLog' }).execute(
      [
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: '2026-11-24T19:00:00Z', path: clusterPath }),
      ],
      { phase: 'test' },
    );
    expect(errorOf(outcomes[1])).toMatchObject({
      operation: 'writeGeneratedLog',
      code: 'Failed',
      message: 'Get-ClusterLog failed: the stand-in was told to fail.',
      target: 'clusterLog',
    });
    expect(await fs.readdir(local(EXPORTED_LOGS_FOLDER))).toEqual([]);
  });

  it('refuses another producer, a time that is not UTC, and a path outside the export folder, before anything runs', async () => {
    const outcomes = await host().execute(
      [
        op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
        {
          op: 'writeGeneratedLog',
          producer: 'systemInfo',
          sinceUtc: '2026-11-24T19:00:00Z',
          path: clusterPath,
        } as unknown as OperationRequest,
        op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: '2026-11-24 19:00:00', path: clusterPath }),
        op('writeGeneratedLog', { producer: 'windowsUpdateLog', sinceUtc: '2026-11-24T19:00:00Z', path: 'C:\\Windows\\win.ini' }),
        op('writeGeneratedLog', {
          producer: 'windowsUpdateLog',
          sinceUtc: '2026-11-24T19:00:00Z',
          path: `${EXPORTED_LOGS_FOLDER}\\u.evtx`,
        }),
      ],
      { phase: 'test', stopOnError: false },
    );
    expect(outcomes.slice(1).map((outcome) => errorOf(outcome)?.code)).toEqual([
      'InvalidRequest',
      'InvalidRequest',
      'InvalidRequest',
      'InvalidRequest',
    ]);
    expect(await cmdletCalls()).toEqual([]);
  });
});
