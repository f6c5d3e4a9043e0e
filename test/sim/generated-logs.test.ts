/**
 * writeGeneratedLog on the simulated Windows: a cluster node's cluster log holds its
 * FailoverClustering events from the window's start on, a stand-alone server (no cluster service)
 * has none, every node has a Windows Update log, and bad fields are refused before anything is
 * written. The text is the simulated machine's own rendering, not Windows' format.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { EXPORTED_LOGS_FOLDER, op, type OperationRequest } from '../../windows/operations';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import type { MachineModel } from '../../sim/windows/machine-model';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { makeTempDir } from '../support/cms';

const NOW = '2026-11-24T20:00:00Z';
const CLUSTER_LOG = `${EXPORTED_LOGS_FOLDER}\\cluster-log.log`;
const UPDATE_LOG = `${EXPORTED_LOGS_FOLDER}\\windows-update-log.log`;

let work: string;
let modelPath: string;

beforeEach(async () => {
  work = await makeTempDir('ars-sim-generated');
  modelPath = path.join(work, 'machine.json');
});
afterEach(() => fs.rm(work, { recursive: true, force: true }));

async function run(model: MachineModel, operations: OperationRequest[]) {
  await writeMachine(modelPath, model);
  const outcomes = await new SimulatedHost(modelPath).execute(operations, { phase: 'test', stopOnError: false });
  return outcomes.map((outcome) => (outcome.ok ? outcome.value : { code: outcome.error.code, message: outcome.error.message }));
}

async function fileText(windowsPath: string): Promise<string | undefined> {
  const entry = (await readMachine(modelPath)).nodes['ARC-NODE-1']!.files[windowsPath.toLowerCase()];
  return entry ? Buffer.from(entry.contentBase64 ?? '', 'base64').toString('utf8') : undefined;
}

describe('writeGeneratedLog on the simulated Windows', () => {
  it("writes a cluster node's cluster log from the window's start on, and its Windows Update log", async () => {
    const model = createDefaultMachine({ nowUtc: NOW });
    const node = model.nodes['ARC-NODE-1']!;
    node.eventLogs!['Microsoft-Windows-FailoverClustering/Operational']!.push(
      {
        source: 'Microsoft-Windows-FailoverClustering',
        eventId: 1069,
        level: 'Error',
        message: 'resource failed',
        timeUtc: '2026-11-24T19:30:00Z',
      },
      {
        source: 'Microsoft-Windows-FailoverClustering',
        eventId: 1201,
        level: 'Information',
        message: 'before',
        timeUtc: '2026-11-24T18:59:59Z',
      },
    );
    node.eventLogs!['Microsoft-Windows-WindowsUpdateClient/Operational']!.push({
      source: 'Microsoft-Windows-WindowsUpdateClient',
      eventId: 19,
      level: 'Information',
      message: 'installed KB5030216',
      timeUtc: '2026-11-20T03:00:00Z',
    });
    const outcomes = await run(model, [
      op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
      op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: '2026-11-24T19:00:00Z', path: CLUSTER_LOG }),
      op('writeGeneratedLog', { producer: 'windowsUpdateLog', sinceUtc: '2026-11-24T19:00:00Z', path: UPDATE_LOG }),
    ]);
    const cluster = await fileText(CLUSTER_LOG);
    const update = await fileText(UPDATE_LOG);
    expect(cluster).toBe(
      'Simulated cluster log of ARC-NODE-1 in ARC-CLUSTER from 2026-11-24T19:00:00Z (UTC)\n' +
        '2026-11-24T19:30:00Z [Error] Microsoft-Windows-FailoverClustering 1069: resource failed\n',
    );
    // Get-WindowsUpdateLog takes no window: all of it.
    expect(update).toBe(
      'Simulated Windows Update log of ARC-NODE-1\n2026-11-20T03:00:00Z [Information] Microsoft-Windows-WindowsUpdateClient 19: installed KB5030216\n',
    );
    expect(outcomes.slice(1)).toEqual([
      { present: true, size: Buffer.byteLength(cluster!) },
      { present: true, size: Buffer.byteLength(update!) },
    ]);
  });

  it('has no cluster log on a stand-alone server, and refuses bad fields and a missing folder', async () => {
    const outcomes = await run(createDefaultMachine({ nowUtc: NOW, nodes: 1 }), [
      op('writeGeneratedLog', { producer: 'windowsUpdateLog', sinceUtc: '2026-11-24T19:00:00Z', path: UPDATE_LOG }),
      op('ensureDirectory', { path: EXPORTED_LOGS_FOLDER }),
      op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: '2026-11-24T19:00:00Z', path: CLUSTER_LOG }),
      op('writeGeneratedLog', { producer: 'clusterLog', sinceUtc: 'yesterday', path: CLUSTER_LOG }),
      op('writeGeneratedLog', { producer: 'windowsUpdateLog', sinceUtc: '2026-11-24T19:00:00Z', path: 'C:\\Windows\\win.ini' }),
      {
        op: 'writeGeneratedLog',
        producer: 'systemInfo',
        sinceUtc: '2026-11-24T19:00:00Z',
        path: UPDATE_LOG,
      } as unknown as OperationRequest,
    ]);
    expect(outcomes).toEqual([
      expect.objectContaining({ code: 'NotFound' }),
      { created: true },
      { present: false, size: 0 },
      { code: 'InvalidRequest', message: "sinceUtc 'yesterday' is not a UTC time" },
      { code: 'InvalidRequest', message: `The log path 'C:\\Windows\\win.ini' is not a .log file directly in '${EXPORTED_LOGS_FOLDER}'` },
      expect.objectContaining({ code: 'InvalidRequest' }),
    ]);
    expect(await fileText(CLUSTER_LOG)).toBeUndefined();
  });
});
