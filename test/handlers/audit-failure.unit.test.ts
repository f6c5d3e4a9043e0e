/**
 * Access ends even when auditing fails. For every way access ends (the Expire task, Reconcile at
 * boot, a revoke by settings, disable, uninstall, a covered peer being released by turning
 * cluster.installOnPeers off or by uninstall), the write of
 * the Windows event or of the history line fails (the simulated machine's fault injection):
 * access is off and the open session ended anyway, the run says what was not recorded and why,
 * and once the fault is gone the next run writes the record, exactly once.
 *
 * Uninstall and a released peer keep no history (it goes with the data folder): for them the
 * Windows event is the record, and a failing history write must simply not matter.
 */
import { ENDPOINT_NAME, GROUPS, HISTORY_FILE, expireTaskName } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { agentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { updateMachine } from '../../sim/windows/default-machine';
import type { Fault, NodeModel } from '../../sim/windows/machine-model';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { advanceClock, openSession, powerOff, powerOn } from '../../sim/windows/simulation';
import { ExtensionFixture, grantSettings, type StatusFile } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');
const at = (hours: number) => new Date(START.getTime() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const GRANT_ID = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
/** The shortest grant (an hour after the consent, a minute before START): few Reconcile runs to simulate. */
const grantFor = () => grantSettings(START, {}, 1);
const EXPIRY = 59 / 60;
const LOCAL = 'ARC-NODE-1';
const PEER = 'ARC-NODE-2';
const ENGINEER = 'CONTOSO\\engineer1';

type FaultKind = 'event' | 'history';
const FAULT_MESSAGES: Record<FaultKind, string> = {
  event: 'The event log service is not running',
  history: 'There is not enough space on the disk',
};
const faultOf = (kind: FaultKind, node: string): Fault =>
  kind === 'event'
    ? { operation: 'writeEvent', node, action: 'fail', message: FAULT_MESSAGES.event, remaining: 1000 }
    : { operation: 'writeFile', node, target: HISTORY_FILE, action: 'fail', message: FAULT_MESSAGES.history, remaining: 1000 };

/** What the run that ended access said: a handler's status, or the agent runs of the tasks that fired. */
type Said = { kind: 'status'; exitCode: number; status: StatusFile['status'] } | { kind: 'agent'; runs: AgentRun[] };

interface World {
  fixture: ExtensionFixture;
  runs: AgentRun[];
  runTasks: ReturnType<typeof agentTaskRunner>;
}

interface Way {
  name: string;
  node: string;
  change: 'revoked' | 'expired';
  eventId: number;
  /** Whether the node keeps a history line of it (false: the data folder is removed). */
  keepsHistory: boolean;
  /** Cover the peer (cluster.installOnPeers) in the grant. */
  coverPeer?: boolean;
  /** For the agent: the task whose run ends access. For a handler command: its status while the record waits. */
  endedBy?: string;
  waitingStatus?: 'warning' | 'error';
  /** What else holds once the record is written. */
  afterwards?: (world: World) => Promise<void>;
  /** Ends access; the fault is in place. */
  end: (world: World) => Promise<Said>;
  /** The next run, the fault gone. */
  next: (world: World) => Promise<void>;
}

const handlerRun = async (world: World, operation: string, sequenceNumber: number): Promise<Said> => {
  const { exitCode } = await world.fixture.run(operation, { sequenceNumber });
  return { kind: 'status', exitCode, status: (await world.fixture.status(sequenceNumber)).status };
};
const agentRuns = async (world: World, move: () => Promise<unknown>): Promise<Said> => {
  const before = world.runs.length;
  await move();
  return { kind: 'agent', runs: world.runs.slice(before) };
};
const revokeSettings = { schemaVersion: 1, access: { level: 'None' } };

const WAYS: Way[] = [
  {
    name: 'expiry through the Expire task',
    node: LOCAL,
    change: 'expired',
    eventId: 1004,
    keepsHistory: true,
    endedBy: expireTaskName(GRANT_ID),
    end: (world) => agentRuns(world, () => advanceClock(world.fixture.machinePath, at(EXPIRY), world.runTasks)),
    next: async (world) => void (await advanceClock(world.fixture.machinePath, at(1.5), world.runTasks)),
  },
  {
    // Off for longer than the Expire task's catch-up window: Reconcile at boot ends access.
    name: 'Reconcile at boot after a power-off across the expiry',
    node: LOCAL,
    change: 'expired',
    eventId: 1004,
    keepsHistory: true,
    endedBy: 'Reconcile',
    end: async (world) => {
      await powerOff(world.fixture.machinePath, LOCAL);
      await advanceClock(world.fixture.machinePath, at(27), world.runTasks);
      return agentRuns(world, () => powerOn(world.fixture.machinePath, LOCAL, world.runTasks));
    },
    next: async (world) => void (await advanceClock(world.fixture.machinePath, at(27.5), world.runTasks)),
  },
  {
    name: 'a revoke by settings (level None)',
    node: LOCAL,
    change: 'revoked',
    eventId: 1003,
    keepsHistory: true,
    waitingStatus: 'warning',
    end: async (world) => {
      await world.fixture.writeSettings(2, { publicSettings: revokeSettings });
      return handlerRun(world, 'enable', 2);
    },
    next: async (world) => void (await world.fixture.run('enable', { sequenceNumber: 2 })),
  },
  {
    name: 'disable',
    node: LOCAL,
    change: 'revoked',
    eventId: 1003,
    keepsHistory: true,
    waitingStatus: 'warning',
    end: (world) => handlerRun(world, 'disable', 1),
    next: async (world) => void (await world.fixture.run('disable', { sequenceNumber: 1 })),
  },
  {
    // Uninstall fails while the record waits: its state stays, and uninstall run again writes it.
    name: 'uninstall',
    node: LOCAL,
    change: 'revoked',
    eventId: 1003,
    keepsHistory: false,
    waitingStatus: 'error',
    afterwards: async (world) => {
      expect(await world.fixture.state()).toBeUndefined();
      const ours = Object.keys((await world.fixture.machine()).nodes[LOCAL]!.files).filter((key) => key.includes('arcremotesupport'));
      expect(ours).toEqual([]);
    },
    end: (world) => handlerRun(world, 'uninstall', 1),
    next: async (world) => void (await world.fixture.run('uninstall', { sequenceNumber: 1 })),
  },
  {
    name: 'a covered peer released (cluster.installOnPeers turned off)',
    node: PEER,
    change: 'revoked',
    eventId: 1003,
    keepsHistory: false,
    coverPeer: true,
    waitingStatus: 'warning',
    // Still covered while the record waits there; released once it is written.
    afterwards: async (world) => expect((await world.fixture.state()).coveredPeers).toEqual([]),
    end: async (world) => {
      await world.fixture.writeSettings(2, { publicSettings: grantFor() });
      return handlerRun(world, 'enable', 2);
    },
    next: async (world) => void (await world.fixture.run('enable', { sequenceNumber: 2 })),
  },
  {
    // Uninstall fails while the peer's record waits there: the state keeps the peer to clean.
    name: 'uninstall releasing a covered peer',
    node: PEER,
    change: 'revoked',
    eventId: 1003,
    keepsHistory: false,
    coverPeer: true,
    waitingStatus: 'error',
    end: (world) => handlerRun(world, 'uninstall', 1),
    next: async (world) => void (await world.fixture.run('uninstall', { sequenceNumber: 1 })),
    afterwards: async (world) => {
      expect(await world.fixture.state()).toBeUndefined();
      expect(Object.keys((await world.fixture.machine()).nodes[PEER]!.files).filter((key) => key.includes('arcremotesupport'))).toEqual([]);
    },
  },
];

const CASES = WAYS.flatMap((way) => (['event', 'history'] as const).map((fault) => [way.name, fault, way] as const));

describe('access ends even when auditing fails', () => {
  let world: World;
  afterEach(() => world?.fixture.remove());

  const node = async (name: string): Promise<NodeModel> => (await world.fixture.machine()).nodes[name]!;
  const members = (model: NodeModel, group: string) => model.groups[group.toLowerCase()]?.members ?? [];
  const historyOf = async (name: string) => {
    const [outcome] = await new SimulatedHost(world.fixture.machinePath).execute([op('readFile', { path: HISTORY_FILE })], {
      phase: 'check',
      node: name,
    });
    const content = outcome?.ok ? (outcome.value as { content: string | null }).content : null;
    return (content ?? '')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  };
  const eventsOf = async (way: Way) => (await node(way.node)).events.filter((event) => event.eventId === way.eventId);

  /** Installed, the engineer named, the grant given (covering the peer when asked), a session open on the node. */
  async function grantWithSession(way: Way): Promise<void> {
    const fixture = await ExtensionFixture.create((machine) => (machine.clock.nowUtc = at(0)));
    const runs: AgentRun[] = [];
    world = { fixture, runs, runTasks: agentTaskRunner(fixture.machinePath, runs) };
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
    const host = new SimulatedHost(fixture.machinePath);
    for (const name of [LOCAL, PEER]) {
      await host.execute(
        [
          op('ensureLocalGroup', { name: GROUPS.engineers, description: 'engineers' }),
          op('setLocalGroupMembers', { name: GROUPS.engineers, members: [ENGINEER] }),
        ],
        { phase: 'owner', node: name },
      );
    }
    const settings = grantFor();
    await fixture.writeSettings(1, { publicSettings: way.coverPeer ? { ...settings, cluster: { installOnPeers: true } } : settings });
    expect((await fixture.run('enable', { sequenceNumber: 1 })).exitCode).toBe(0);
    expect(members(await node(way.node), GROUPS.diagnostics)).toEqual([ENGINEER]);
    // Time passes with access in force (the expiry not yet reached), and the engineer connects.
    await advanceClock(fixture.machinePath, at(0.5), world.runTasks);
    await openSession(fixture.machinePath, way.node, ENDPOINT_NAME, ENGINEER);
    expect((await node(way.node)).sessions).toHaveLength(1);
  }

  it.each(CASES)(
    '%s, with the %s write failing: access off at once, the record written once the fault is gone',
    async (_name, fault, way) => {
      await grantWithSession(way);
      await updateMachine(world.fixture.machinePath, (machine) => void (machine.faults = [faultOf(fault, way.node)]));

      const said = await way.end(world);

      // Access is off: nobody in a level group, the open session ended.
      const ended = await node(way.node);
      expect(members(ended, GROUPS.diagnostics)).toEqual([]);
      expect(members(ended, GROUPS.repair)).toEqual([]);
      expect(ended.sessions).toEqual([]);
      expect(Object.keys(ended.tasks).filter((key) => key.endsWith(expireTaskName(GRANT_ID).toLowerCase()))).toEqual([]);

      const faultHits = fault === 'event' || way.keepsHistory;
      if (faultHits) {
        // Said, naming what was not recorded and why; kept where it could be.
        const missing = fault === 'event' ? `event ${way.eventId}` : 'history line';
        const mention = expect.stringMatching(new RegExp(`not recorded.*${missing}.*${FAULT_MESSAGES[fault]}`, 's'));
        if (said.kind === 'status') {
          expect(said.status.status).toBe(way.waitingStatus);
          expect(said.exitCode).toBe(way.waitingStatus === 'error' ? 1 : 0);
          if (way.coverPeer) expect((await world.fixture.state()).coveredPeers).toEqual([PEER]);
          const line = said.status.substatus.find((item) => item.name === `Node ${way.node}`);
          expect(line).toMatchObject({ status: 'warning', formattedMessage: { message: mention } });
        } else {
          // The run that ended access, and any that retried the record in the same boot, exit 3.
          const noting = said.runs.filter((run) => /not recorded/.test(run.output));
          expect(noting[0]).toMatchObject({ task: way.endedBy, output: expect.stringContaining('remove diagnostics access;') });
          for (const run of noting) expect(run).toMatchObject({ node: way.node, exitCode: 3, output: mention });
          for (const run of said.runs.filter((other) => !noting.includes(other)))
            expect({ task: run.task, exitCode: run.exitCode }).toEqual({ task: run.task, exitCode: 0 });
        }
        if (fault === 'event') {
          expect(await eventsOf(way)).toEqual([]);
          if (way.keepsHistory) expect((await historyOf(way.node)).filter((entry) => entry.change === way.change)).toHaveLength(1);
        } else {
          expect((await historyOf(way.node)).filter((entry) => entry.change === way.change)).toEqual([]);
          expect(await eventsOf(way)).toHaveLength(1);
        }
      } else {
        // The data folder goes with the access: no history write to fail, and the event is written.
        expect(said).toMatchObject({ kind: 'status', exitCode: 0, status: { status: 'success' } });
        expect(await eventsOf(way)).toHaveLength(1);
      }

      // The fault is gone; the next run records what was missing, and a run after it adds nothing.
      await updateMachine(world.fixture.machinePath, (machine) => void (machine.faults = []));
      await way.next(world);
      await way.next(world);
      const events = await eventsOf(way);
      expect(events).toHaveLength(1);
      expect(events[0]!.message).toMatch(new RegExp(`^Remote support access ${way.change}: .*grant ${GRANT_ID}, audit \\S+,`));
      if (way.keepsHistory) {
        const lines = (await historyOf(way.node)).filter((entry) => entry.change === way.change);
        expect(lines).toHaveLength(1);
        expect(events[0]!.message).toContain(`audit ${String(lines[0]!.auditId)},`);
      }
      // Still nobody has access, and nothing is left to record.
      const settled = await node(way.node);
      expect(members(settled, GROUPS.diagnostics)).toEqual([]);
      expect(Object.keys(settled.files).filter((key) => key.includes('pending-audit'))).toEqual([]);
      await way.afterwards?.(world);
    },
  );
});
