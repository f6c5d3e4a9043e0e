/**
 * Host benchmarks: how many host processes each handler command starts (target: one per phase),
 * and, with the real PowerShell, one batched phase against the same operations one process each.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { runHandler } from '../../extension/dispatcher';
import { op } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';
import { PowerShellHost } from '../../windows/powershell-host';
import { composeNode } from '../../handlers/compose';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { createRuntimeConfig } from '../../handlers/runtime-config';
import { layOutExtensionFolder, writeHandlerSettings } from '../../sim/arm/extension-folder';
import { findPwsh } from '../support/cms';
import { simulatorEnvironment } from '../../sim/windows/simulator-bundle';

type Emit = (record: Record<string, unknown>) => void;
const REPO = path.resolve(__dirname, '..', '..');
const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Runs each lifecycle command in-process and counts the host processes it started. */
export async function benchLaunchesPerCommand(emit: Emit): Promise<void> {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-bench-launches-'));
  try {
    const root = path.join(work, 'ext');
    const machinePath = path.join(work, 'machine.json');
    await layOutExtensionFolder(root, 'ArcRemoteSupport.WindowsRemoteSupport');
    await writeMachine(machinePath, createDefaultMachine());
    const environment = { ARC_REMOTE_SUPPORT_DATA: path.join(work, 'data'), ...simulatorEnvironment(machinePath) };
    const now = new Date();
    const consent = { termsVersion: '2026.1', acceptedAt: iso(now), acceptedBy: 'owner@contoso.example' };
    const grant = {
      schemaVersion: 1,
      access: {
        level: 'Diagnostics',
        grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
        expiresAt: iso(new Date(now.getTime() + 8 * 3_600_000)),
        supportRequestId: 'TKT-1',
        consent,
      },
    };
    const steps: Array<[string, string, number, Record<string, unknown> | undefined]> = [
      ['install', 'install', 0, undefined],
      ['enable (grant)', 'enable', 0, grant],
      ['enable (revoke)', 'enable', 1, { schemaVersion: 1, access: { level: 'None' } }],
      ['disable', 'disable', 1, undefined],
      ['uninstall', 'uninstall', 1, undefined],
    ];
    for (const [name, operation, sequenceNumber, publicSettings] of steps) {
      if (publicSettings) await writeHandlerSettings(root, sequenceNumber, { publicSettings });
      const hosts: WindowsHost[] = [];
      const config = createRuntimeConfig(
        { publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' },
        {
          bindHost: async (context) => {
            const binding = await composeNode(context.environment, context.extensionRoot);
            hosts.push(binding.host);
            return binding;
          },
        },
      );
      const exitCode = await runHandler([operation], config, {
        environment: { ...environment, ConfigSequenceNumber: String(sequenceNumber) },
        extensionRoot: root,
        stderr: () => undefined,
      });
      const launches = hosts.reduce((sum, host) => sum + host.launches, 0);
      // A command has at most two phases on the node: observe (with the probe) and apply.
      emit({
        metric: 'host_launches_per_command',
        command: name,
        exit_code: exitCode,
        launches,
        target: 'one launch per phase: observe, then apply only when something differs',
        met: exitCode === 0 && launches <= 2,
      });
    }
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The real PowerShell (over the stand-in cmdlets): one batch of N operations against N single-operation launches. */
export async function benchBatchedPhase(emit: Emit, rounds = 3): Promise<void> {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-bench-batch-'));
  try {
    const modelPath = path.join(work, 'machine.json');
    await writeMachine(modelPath, createDefaultMachine());
    const host = new PowerShellHost({
      powershellExe: findPwsh(),
      scriptsDir: path.join(REPO, 'windows', 'powershell'),
      entryScript: path.join(REPO, 'test', 'powershell', 'Invoke-BridgeWithStandIn.ps1'),
      env: { ARS_MACHINE_MODEL: modelPath, ARS_MACHINE_ROOT: path.join(work, 'drives') },
    });
    const base = 'C:\\ProgramData\\ArcRemoteSupport';
    const phase = [
      op('probe', {}),
      op('ensureDirectory', { path: base }),
      op('writeFile', { path: `${base}\\state.json`, content: '{}' }),
      op('ensureLocalGroup', { name: 'RemoteSupport-Diagnostics', description: 'bench' }),
      op('getLocalGroup', { name: 'RemoteSupport-Diagnostics' }),
      op('listTasks', { folder: '\\ArcRemoteSupport\\' }),
      op('getSessionConfiguration', { name: 'ArcRemoteSupport' }),
      op('writeEvent', { source: 'ArcRemoteSupport', eventId: 1000, level: 'Information', message: 'bench' }),
    ];
    let batched = 0;
    let single = 0;
    for (let round = 0; round < rounds; round++) {
      let started = process.hrtime.bigint();
      await host.execute(phase, { phase: 'bench batched' });
      batched += Number(process.hrtime.bigint() - started) / 1e6;
      started = process.hrtime.bigint();
      for (const operation of phase) await host.execute([operation], { phase: 'bench single' });
      single += Number(process.hrtime.bigint() - started) / 1e6;
    }
    emit({
      metric: 'powershell_batched_phase_vs_one_process_per_operation',
      operations: phase.length,
      rounds,
      batched_ms: Number((batched / rounds).toFixed(0)),
      one_process_each_ms: Number((single / rounds).toFixed(0)),
      ratio_one_each_over_batched: Number((single / batched).toFixed(2)),
    });
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** Access changes on the simulated machine: WinRM restarts they cause, and how late expiry bites. */
export async function benchAccessChanges(emit: Emit): Promise<void> {
  const { agentTaskRunner } = await import('../../sim/windows/agent-task-runner');
  const { advanceClock } = await import('../../sim/windows/simulation');
  const { readMachine } = await import('../../sim/windows/default-machine');
  const { GROUPS } = await import('../../core/node-layout');
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-bench-access-'));
  try {
    const root = path.join(work, 'ext');
    const machinePath = path.join(work, 'machine.json');
    await layOutExtensionFolder(root, 'ArcRemoteSupport.WindowsRemoteSupport');
    const start = new Date('2026-11-24T20:00:00Z');
    await writeMachine(machinePath, createDefaultMachine({ nowUtc: iso(start) }));
    const environment = { ARC_REMOTE_SUPPORT_DATA: path.join(work, 'data'), ...simulatorEnvironment(machinePath) };
    const config = createRuntimeConfig({ publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' });
    const run = (operation: string, sequenceNumber: number) =>
      runHandler([operation], config, {
        environment: { ...environment, ConfigSequenceNumber: String(sequenceNumber) },
        extensionRoot: root,
        stderr: () => undefined,
      });
    const restarts = async () => (await readMachine(machinePath)).nodes['ARC-NODE-1']!.winrmRestarts;
    const consent = { termsVersion: '2026.1', acceptedAt: iso(start), acceptedBy: 'owner@contoso.example' };
    const grant = (level: string) => ({
      schemaVersion: 1,
      access: {
        level,
        grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
        expiresAt: iso(new Date(start.getTime() + 8 * 3_600_000)),
        supportRequestId: 'TKT-1',
        consent,
      },
    });

    await run('install', 0);
    await new SimulatedHost(machinePath).execute(
      [op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })],
      { phase: 'bench' },
    );
    const afterInstall = await restarts();
    const timings: number[] = [];
    const steps: Array<[number, Record<string, unknown>]> = [
      [1, grant('Diagnostics')],
      [2, grant('DiagnosticsAndRepair')],
      [3, { schemaVersion: 1, access: { level: 'None' } }],
      [4, grant('Diagnostics')],
    ];
    for (const [sequenceNumber, publicSettings] of steps) {
      await writeHandlerSettings(root, sequenceNumber, { publicSettings });
      const started = process.hrtime.bigint();
      await run('enable', sequenceNumber);
      timings.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    emit({
      metric: 'winrm_restarts_by_grant_configure_revoke',
      restarts: (await restarts()) - afterInstall,
      target: 0,
      met: (await restarts()) === afterInstall,
    });
    emit({
      metric: 'handler_time_for_access_change_simulated_host',
      runs: timings.length,
      median_ms: Number([...timings].sort((a, b) => a - b)[Math.floor(timings.length / 2)]!.toFixed(1)),
    });

    // Step the clock a minute at a time past the expiry and see when the engineers lose access.
    const expiry = start.getTime() + 8 * 3_600_000;
    await advanceClock(machinePath, iso(new Date(expiry - 60_000)), agentTaskRunner(machinePath));
    let offAt: number | null = null;
    for (let minute = 0; minute <= 30 && offAt === null; minute++) {
      const runs: Array<{ timeUtc: string; task: string }> = [];
      await advanceClock(machinePath, iso(new Date(expiry + minute * 60_000)), agentTaskRunner(machinePath, runs as never));
      const node = (await readMachine(machinePath)).nodes['ARC-NODE-1']!;
      if ((node.groups[GROUPS.diagnostics.toLowerCase()]?.members ?? []).length === 0)
        offAt = Math.min(...runs.map((item) => Date.parse(item.timeUtc)));
    }
    emit({
      metric: 'lag_expiry_to_access_off_simulated_clock',
      lag_seconds: offAt === null ? null : (offAt - expiry) / 1000,
      bound: 'the Expire task fires at the expiry; Reconcile every 15 minutes is the backstop',
    });
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
