/**
 * `npm run bench`: one JSON object per line. Timings are ratios measured side by side in one run
 * (interleaved), because the machines this runs on are shared and noisy.
 *
 * `npm run bench -- <section> ...` runs only the sections named (all by default): size (bundle
 * and zip), cold-start (no-op enable against bare node), memory (handler peak), host (launches
 * per command, the batched PowerShell phase, access changes), fleet (grant to 500 machines),
 * channel (revoke and expiry to close, round trip, agent memory, refused listens), channel-loop
 * (grant to the first command through the whole loop), logs (bundle memory, upload, resume).
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { bundleHandler } from '../../scripts/build/bundle';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { buildPackage } from '../../scripts/build/package';
import { layOutExtensionFolder } from '../../sim/arm/extension-folder';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { benchLogCollection } from './diag-bench';
import { benchFleetGrant } from './fleet-bench';
import { benchAccessChanges, benchBatchedPhase, benchLaunchesPerCommand } from './host-bench';
import { benchChannel } from './channel-bench';
import { benchChannelGrantToFirstCommand } from './channel-loop-bench';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNode } from '../../scripts/build/shipped-node';
import { SHIPPED_NODE_VARIABLE } from '../../sim/shipped-node-path';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const SECTIONS = ['size', 'cold-start', 'memory', 'host', 'fleet', 'channel', 'channel-loop', 'logs'] as const;
type Section = (typeof SECTIONS)[number];

/** The sections named on the command line, or all of them; an unknown name stops the run. */
function chosenSections(argv: string[]): Set<Section> {
  const unknown = argv.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown bench section(s) ${unknown.join(', ')}; the sections are: ${SECTIONS.join(', ')}`);
  return new Set(argv.length > 0 ? (argv as Section[]) : SECTIONS);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function emit(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

async function timeRun(command: string, args: string[], options: execa.Options): Promise<number> {
  const started = process.hrtime.bigint();
  const result = await execa(command, args, { ...options, reject: false });
  if (result.exitCode !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Peak resident memory of one run, from GNU time (Debian package `time`). */
async function peakMemoryKb(node: string, args: string[], options: execa.Options): Promise<number> {
  const result = await execa('/usr/bin/time', ['-f', '%M', node, ...args], { ...options, reject: false });
  const kb = Number(String(result.stderr).trim().split('\n').pop());
  if (!Number.isFinite(kb)) throw new Error(`cannot read peak memory from: ${result.stderr}`);
  return kb;
}

async function main(): Promise<void> {
  const sections = chosenSections(process.argv.slice(2));
  const identity = loadExtensionIdentity();
  // The bundled handler runs, and bare node is timed, on the Node the package ships.
  const node = await shippedNode();
  process.env[SHIPPED_NODE_VARIABLE] = node;
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-bench-'));
  try {
    const handler = path.join(work, 'handler.js');
    const { size: bundleBytes } = await bundleHandler({ identity, outFile: handler });
    if (sections.has('size')) {
      emit({ metric: 'bundle_size', bytes: bundleBytes });
      const built = await buildPackage({ outDir: path.join(work, 'dist'), log: () => undefined });
      emit({ metric: 'zip_size', bytes: built.size, sha256: built.sha256 });
    }

    // A no-op enable: the manager has sent no settings yet.
    const root = path.join(work, 'ext');
    await layOutExtensionFolder(root, `${identity.publisher}.${identity.type}`);
    await fs.writeFile(path.join(root, 'config', '0.settings'), '');
    const machinePath = path.join(work, 'machine.json');
    await writeMachine(machinePath, createDefaultMachine());
    const options: execa.Options = {
      cwd: root,
      env: {
        ConfigSequenceNumber: '0',
        ARC_REMOTE_SUPPORT_DATA: path.join(work, 'data'),
        ...simulatorEnvironment(machinePath, { simulator: await simulatorBundle() }),
      },
    };
    // Installed once, so that the measured enable finds nothing to change.
    await timeRun(node, [handler, 'install'], options);

    await timeRun(node, [handler, 'enable'], options); // warm the file cache for both, and fill the compile cache
    await timeRun(node, ['-e', '0'], options);
    if (sections.has('cold-start')) {
      const handlerTimes: number[] = [];
      const bareTimes: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        handlerTimes.push(await timeRun(node, [handler, 'enable'], options));
        bareTimes.push(await timeRun(node, ['-e', '0'], options));
      }
      const ratio = median(handlerTimes) / median(bareTimes);
      emit({
        metric: 'cold_start_noop_enable_vs_bare_node',
        note: 'enable with no settings on an installed simulated node: one observe batch, nothing to change; the compile cache in the data folder filled by the warm-up run',
        node: `v${identity.linuxNodeRuntime.version} (${identity.linuxNodeRuntime.package})`,
        runs_each: RUNS,
        handler_median_ms: Number(median(handlerTimes).toFixed(1)),
        bare_node_median_ms: Number(median(bareTimes).toFixed(1)),
        ratio: Number(ratio.toFixed(2)),
        target: '<= 1.5',
        met: ratio <= 1.5,
      });
    }

    if (sections.has('memory')) {
      const peaks: number[] = [];
      for (let run = 0; run < 5; run++) peaks.push(await peakMemoryKb(node, [handler, 'enable'], options));
      const peakMb = Math.max(...peaks) / 1024;
      emit({ metric: 'handler_peak_memory', runs: peaks.length, max_mb: Number(peakMb.toFixed(1)), target: '< 80 MB', met: peakMb < 80 });
    }

    if (sections.has('host')) {
      await benchLaunchesPerCommand(emit);
      await benchBatchedPhase(emit);
      await benchAccessChanges(emit);
    }
    if (sections.has('fleet')) {
      const fleet = await benchFleetGrant();
      emit({ ...fleet, met: fleet.ratio !== undefined && Number(fleet.ratio) <= 1.15 && fleet.machines_failed === 0 });
    }
    if (sections.has('channel')) await benchChannel(emit);
    if (sections.has('channel-loop')) await benchChannelGrantToFirstCommand(emit);
    if (sections.has('logs')) await benchLogCollection(emit);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
