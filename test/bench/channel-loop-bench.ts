/**
 * `channel_grant_to_first_command` (issue 12, Measure): seconds from the owner's `grant` to the
 * first line of the engineer's first command, through the whole simulated loop of
 * test/support/channel-loop.ts: the CLI grants through the ARM emulator, whose cluster runs the
 * real handler package on both nodes; Task Scheduler starts the node's Channel task (here: as soon
 * as the grant returns, as the task's registration trigger would); the agent listens at the test
 * relay; the owner issues a ticket and the engineer's `connect --command` (the CLI bundle as a
 * process) prints the command's first line. Each run is a new grant after a revoke; the phases
 * are reported beside the total. A baseline for the next round, not a target.
 */
import { performance } from 'perf_hooks';
import path from 'path';
import { startChannelTask, waitFor, type ChannelProcess } from '../../sim/relay/channel-rig';
import { CHANNEL_LOOP, startChannelLoopRig } from '../support/channel-loop';
import { SUBSCRIPTION } from '../support/cli-harness';

type Emit = (record: Record<string, unknown>) => void;

const COMMAND = 'Get-Service -Name WinRM';
const { NS, TICKET, ENGINEER, seed } = CHANNEL_LOOP;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const seconds = (ms: number) => Number((ms / 1000).toFixed(2));

export async function benchChannelGrantToFirstCommand(emit: Emit, runs = 3): Promise<void> {
  const rig = await startChannelLoopRig();
  const agents: ChannelProcess[] = [];
  const owner = async (argv: string[]) => {
    const result = await rig.owner(argv);
    if (result.code !== 0) throw new Error(`${argv[0]} exited ${result.code}: ${result.stderr}`);
    return result;
  };
  try {
    await owner(['deploy', ...seed]);
    await owner(['deploy', ...seed, '--cluster']);
    const modelPath = rig.runner.windowsOf({ subscriptionId: SUBSCRIPTION, resourceGroup: CHANNEL_LOOP.RG, name: 'FS-01' }).modelPath;
    const phases = {
      grant: [] as number[],
      listening: [] as number[],
      ticket: [] as number[],
      firstLine: [] as number[],
      total: [] as number[],
    };
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      const granted = await owner([
        ...['grant', ...seed, '--cluster', '--level', 'Diagnostics', '--duration', '8h', '--support-request', TICKET],
        ...['--accept-terms', '--relay-namespace', NS, '--engineer', ENGINEER, '--output', 'json'],
      ]);
      const grantId = JSON.parse(granted.stdout).grant.grantId as string;
      const grantDone = performance.now();
      const agent = await startChannelTask(modelPath, 'FS-01', rig.relay);
      agents.push(agent);
      const hybridConnection = `rs-fs-01-${grantId.replace(/-/g, '').slice(0, 8)}-fs-01`;
      await waitFor(
        () => rig.relay.counters.openListeners(hybridConnection) === 1,
        30_000,
        () => agent.output(),
      );
      const listening = performance.now();
      const ticketFile = path.join(rig.work, `ticket-${run}.json`);
      await owner(['ticket', ...seed, '--grant', grantId, '--ticket-file', ticketFile, '--engineer', ENGINEER]);
      const ticketed = performance.now();
      const engineer = rig.connect(['--ticket', ticketFile, '--node', 'FS-01', '--command', COMMAND]);
      const firstLine = await new Promise<number>((resolve, reject) => {
        engineer.stdout!.once('data', () => resolve(performance.now()));
        engineer.then((result) => reject(new Error(`connect printed nothing and exited ${result.exitCode}: ${result.stderr}`)), reject);
      });
      const result = await engineer;
      if (result.exitCode !== 0) throw new Error(`connect exited ${result.exitCode}: ${result.stderr}`);
      phases.grant.push(grantDone - started);
      phases.listening.push(listening - grantDone);
      phases.ticket.push(ticketed - listening);
      phases.firstLine.push(firstLine - ticketed);
      phases.total.push(firstLine - started);
      await owner(['revoke', ...seed, '--cluster']);
      await agent.exited;
    }
    emit({
      metric: 'channel_grant_to_first_command',
      runs,
      seconds_median: seconds(median(phases.total)),
      seconds_max: seconds(Math.max(...phases.total)),
      phases_median_s: {
        grant_on_two_nodes: seconds(median(phases.grant)),
        agent_listening: seconds(median(phases.listening)),
        ticket: seconds(median(phases.ticket)),
        connect_to_first_line: seconds(median(phases.firstLine)),
      },
      note: 'baseline (no target): simulated cluster, emulated ARM, test relay on loopback',
    });
  } finally {
    for (const agent of agents) agent.kill();
    await rig.close();
  }
}
