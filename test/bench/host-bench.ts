/**
 * Host benchmarks: how many host processes each handler command starts (target: one per phase),
 * and, with the real PowerShell, one batched phase against the same operations one process each.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { runHandler } from '../../extension/dispatcher';
import { op } from '../../handlers/host/operations';
import type { WindowsHost } from '../../handlers/host/port';
import { PowerShellHost } from '../../handlers/host/powershell-host';
import { selectHost } from '../../handlers/host/select-host';
import { createDefaultMachine, writeMachine } from '../../handlers/host/simulated/default-machine';
import { createRuntimeConfig } from '../../handlers/runtime-config';
import { layOutExtensionFolder, writeHandlerSettings } from '../../scripts/demo/extension-folder';
import { findPwsh } from '../support/cms';

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
    const environment = { ARC_REMOTE_SUPPORT_DATA: path.join(work, 'data'), ARC_REMOTE_SUPPORT_HOST: `simulated:${machinePath}` };
    const now = new Date();
    const consent = { termsVersion: '2026.1', acceptedAt: iso(now), acceptedBy: 'owner@contoso.example' };
    const grant = { schemaVersion: 1, access: { level: 'Diagnostics', grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f', expiresAt: iso(new Date(now.getTime() + 8 * 3_600_000)), supportRequestId: 'TKT-1', consent } };
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
            const binding = await selectHost(context.environment, context.extensionRoot);
            hosts.push(binding.host);
            return binding;
          },
        },
      );
      const exitCode = await runHandler([operation], config, { environment: { ...environment, ConfigSequenceNumber: String(sequenceNumber) }, extensionRoot: root, stderr: () => undefined });
      const launches = hosts.reduce((sum, host) => sum + host.launches, 0);
      emit({ metric: 'host_launches_per_command', command: name, exit_code: exitCode, launches, phases: hosts.length, target: 'one launch per phase', met: launches <= Math.max(1, hosts.length) });
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
      scriptsDir: path.join(REPO, 'scripts', 'node'),
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
