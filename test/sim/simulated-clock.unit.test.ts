/**
 * The simulated machine's life outside the handler: the clock firing scheduled tasks from their
 * task XML as Task Scheduler would, powering nodes off and on, and support sessions.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { op } from '../../windows/operations';
import { createDefaultMachine, readMachine, updateMachine, writeMachine } from '../../sim/windows/default-machine';
import { splitWindowsArguments } from '../../sim/windows/command-line';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { advanceClock, openSession, powerOff, powerOn, type RunTaskAction, type ScheduledTaskRun } from '../../sim/windows/simulation';
import { makeTempDir } from '../support/cms';

const NOW = '2026-11-24T20:00:00Z';
const FOLDER = '\\ArcRemoteSupport';

/**
 * Task XML in the Task Scheduler 2.0 schema, as our handler writes it. `triggers` is the content
 * of <Triggers>.
 */
function taskXml(triggers: string, settings = '<StartWhenAvailable>false</StartWhenAvailable>'): string {
  return `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Description>test task</Description></RegistrationInfo>
  <Triggers>${triggers}</Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals>
  <Settings>${settings}</Settings>
  <Actions Context="Author">
    <Exec>
      <Command>C:\\Program Files\\ArcRemoteSupport\\node.exe</Command>
      <Arguments>"C:\\Program Files\\ArcRemoteSupport\\agent.js" reconcile --reason "clock test"</Arguments>
    </Exec>
  </Actions>
</Task>`;
}

const timeTrigger = (start: string, extra = '', repetition = '') =>
  `<TimeTrigger>${repetition}<StartBoundary>${start}</StartBoundary>${extra}</TimeTrigger>`;
const every = (interval: string, duration?: string) =>
  `<Repetition><Interval>${interval}</Interval>${duration ? `<Duration>${duration}</Duration>` : ''}</Repetition>`;

let work: string;
let modelPath: string;
let host: SimulatedHost;
let runs: Array<{ node: string; name: string; time: string; clock: string }>;

/** Records each run with the clock the action saw. */
const record: RunTaskAction = async (node, task) => {
  const model = await readMachine(modelPath);
  runs.push({ node, name: task.name, time: task.timeUtc, clock: model.clock.nowUtc });
};

async function register(name: string, xml: string, node?: string): Promise<void> {
  const [outcome] = await host.execute([op('registerTask', { folder: FOLDER, name, xml })], { phase: 'test', node });
  if (!outcome?.ok) throw new Error(JSON.stringify(outcome));
}

const timesOf = (name: string) => runs.filter((run) => run.name === name).map((run) => run.time);

async function task(name: string, node = 'ARC-NODE-1') {
  return (await readMachine(modelPath)).nodes[node]!.tasks[`${FOLDER}\\${name}`.toLowerCase()];
}

beforeEach(async () => {
  work = await makeTempDir('ars-simclock');
  modelPath = path.join(work, 'machine.json');
  await writeMachine(modelPath, createDefaultMachine({ nowUtc: NOW }));
  host = new SimulatedHost(modelPath);
  runs = [];
});
afterEach(() => fs.rm(work, { recursive: true, force: true }));

describe('advanceClock', () => {
  it('fires a one-shot TimeTrigger once at its time, with the clock at that time, and records the run', async () => {
    await register('Expire-1', taskXml(timeTrigger('2026-11-24T21:00:00Z', '<EndBoundary>2026-11-24T21:30:00Z</EndBoundary>')));
    const reported = await advanceClock(modelPath, '2026-11-24T23:00:00Z', record);
    expect(runs).toEqual([{ node: 'ARC-NODE-1', name: 'Expire-1', time: '2026-11-24T21:00:00Z', clock: '2026-11-24T21:00:00Z' }]);
    expect(reported).toHaveLength(1);
    expect(await task('Expire-1')).toMatchObject({ lastRunTimeUtc: '2026-11-24T21:00:00Z', runCount: 1, state: 'Ready' });
    expect((await readMachine(modelPath)).clock.nowUtc).toBe('2026-11-24T23:00:00Z');

    await advanceClock(modelPath, '2026-11-30T00:00:00Z', record);
    expect(runs).toHaveLength(1);
  });

  it('never fires after the EndBoundary, and deletes the task DeleteExpiredTaskAfter past it', async () => {
    const settings = '<StartWhenAvailable>true</StartWhenAvailable><DeleteExpiredTaskAfter>PT1H</DeleteExpiredTaskAfter>';
    await register('Late', taskXml(timeTrigger('2026-11-24T22:00:00Z', '<EndBoundary>2026-11-24T21:20:00Z</EndBoundary>'), settings));
    await register(
      'Repeats',
      taskXml(timeTrigger('2026-11-24T21:00:00Z', '<EndBoundary>2026-11-24T21:25:00Z</EndBoundary>', every('PT10M')), settings),
    );
    await advanceClock(modelPath, '2026-11-24T22:24:00Z', record);
    expect(timesOf('Late')).toEqual([]);
    expect(timesOf('Repeats')).toEqual(['2026-11-24T21:00:00Z', '2026-11-24T21:10:00Z', '2026-11-24T21:20:00Z']);
    expect(await task('Repeats')).toBeDefined();
    expect(await task('Late')).toBeUndefined(); // its end (21:20) + 1 hour has passed

    await advanceClock(modelPath, '2026-11-24T22:25:00Z', record);
    expect(await task('Repeats')).toBeUndefined();
  });

  it('fires a 15-minute repetition 8 times in 2 hours, and only within its Duration', async () => {
    await register('Reconcile', taskXml(timeTrigger('2026-11-24T20:10:00Z', '', every('PT15M'))));
    await register('ForAnHour', taskXml(timeTrigger('2026-11-24T20:10:00Z', '', every('PT15M', 'PT1H'))));
    await advanceClock(modelPath, '2026-11-24T22:00:00Z', record);
    expect(timesOf('Reconcile')).toEqual([
      '2026-11-24T20:10:00Z',
      '2026-11-24T20:25:00Z',
      '2026-11-24T20:40:00Z',
      '2026-11-24T20:55:00Z',
      '2026-11-24T21:10:00Z',
      '2026-11-24T21:25:00Z',
      '2026-11-24T21:40:00Z',
      '2026-11-24T21:55:00Z',
    ]);
    expect(timesOf('ForAnHour')).toEqual(['2026-11-24T20:10:00Z', '2026-11-24T20:25:00Z', '2026-11-24T20:40:00Z', '2026-11-24T20:55:00Z']);
    // In time order; at one instant by task name.
    expect(runs.map((run) => run.time)).toEqual([...runs.map((run) => run.time)].sort());
    expect(runs.every((run) => run.clock === run.time)).toBe(true);
    expect((await task('Reconcile'))?.runCount).toBe(8);

    // Stepping in small pieces gives the same runs as one big step.
    await advanceClock(modelPath, '2026-11-24T22:10:00Z', record);
    await advanceClock(modelPath, '2026-11-24T22:24:59Z', record);
    await advanceClock(modelPath, '2026-11-24T22:25:00Z', record);
    expect(timesOf('Reconcile').slice(8)).toEqual(['2026-11-24T22:10:00Z', '2026-11-24T22:25:00Z']);
  });

  it('fires a daily CalendarTrigger every DaysInterval days at the StartBoundary time of day', async () => {
    const daily = (interval: number) =>
      `<CalendarTrigger><StartBoundary>2026-11-25T03:00:00Z</StartBoundary><ScheduleByDay><DaysInterval>${interval}</DaysInterval></ScheduleByDay></CalendarTrigger>`;
    await register('Retention', taskXml(daily(1)));
    await register('EveryOtherDay', taskXml(daily(2)));
    await advanceClock(modelPath, '2026-11-28T08:00:00Z', record);
    expect(timesOf('Retention')).toEqual(['2026-11-25T03:00:00Z', '2026-11-26T03:00:00Z', '2026-11-27T03:00:00Z', '2026-11-28T03:00:00Z']);
    expect(timesOf('EveryOtherDay')).toEqual(['2026-11-25T03:00:00Z', '2026-11-27T03:00:00Z']);
  });

  it('never fires a disabled task (Settings, by setTaskEnabled, or a disabled trigger)', async () => {
    const trigger = timeTrigger('2026-11-24T20:30:00Z', '', every('PT15M'));
    await register('DisabledInXml', taskXml(trigger, '<Enabled>false</Enabled>'));
    await register('DisabledLater', taskXml(trigger));
    await register('TriggerOff', taskXml(trigger.replace('</StartBoundary>', '</StartBoundary><Enabled>false</Enabled>')));
    await host.execute([op('setTaskEnabled', { folder: FOLDER, name: 'DisabledLater', enabled: false })], { phase: 'test' });
    await advanceClock(modelPath, '2026-11-25T20:00:00Z', record);
    expect(runs).toEqual([]);
    expect(await task('DisabledInXml')).toMatchObject({ runCount: 0, lastRunTimeUtc: null, state: 'Disabled' });
  });

  it('hands the action the Exec command and its arguments split as Windows splits them, and the node', async () => {
    await register('Reconcile', taskXml(timeTrigger('2026-11-24T20:30:00Z')), 'ARC-NODE-2');
    await register('Reconcile', taskXml(timeTrigger('2026-11-24T20:30:00Z')));
    const reported: ScheduledTaskRun[] = await advanceClock(modelPath, '2026-11-24T21:00:00Z', record);
    expect(runs.map((run) => run.node)).toEqual(['ARC-NODE-1', 'ARC-NODE-2']);
    expect(reported[1]).toEqual({
      node: 'ARC-NODE-2',
      folder: FOLDER,
      name: 'Reconcile',
      timeUtc: '2026-11-24T20:30:00Z',
      actions: [
        {
          command: 'C:\\Program Files\\ArcRemoteSupport\\node.exe',
          arguments: ['C:\\Program Files\\ArcRemoteSupport\\agent.js', 'reconcile', '--reason', 'clock test'],
          argumentsText: '"C:\\Program Files\\ArcRemoteSupport\\agent.js" reconcile --reason "clock test"',
          workingDirectory: null,
        },
      ],
    });
  });

  it('lets the action change the machine: a one-shot task that unregisters itself, one that registers another', async () => {
    await register('Expire-1', taskXml(timeTrigger('2026-11-24T21:00:00Z')));
    const states: unknown[] = [];
    await advanceClock(modelPath, '2026-11-24T23:00:00Z', async (node, run) => {
      // Our agent, run by the task on its node, sees itself running and the clock at its start.
      const agent = new SimulatedHost(modelPath, { localNode: node });
      const [self] = await agent.execute([op('getTask', { folder: run.folder, name: run.name })], { phase: 'agent' });
      states.push(self?.ok && (self.value as { state: string }).state);
      await record(node, run);
      if (run.name === 'Expire-1') {
        await agent.execute(
          [
            op('deleteTask', { folder: run.folder, name: run.name }),
            op('registerTask', { folder: run.folder, name: 'Follow-up', xml: taskXml(timeTrigger('2026-11-24T22:00:00Z')) }),
          ],
          { phase: 'agent' },
        );
      }
    });
    expect(states).toEqual(['Running', 'Running']);
    expect(runs.map((run) => `${run.name}@${run.time}`)).toEqual(['Expire-1@2026-11-24T21:00:00Z', 'Follow-up@2026-11-24T22:00:00Z']);
    expect(await task('Expire-1')).toBeUndefined();
    expect(await task('Follow-up')).toMatchObject({ state: 'Ready', runCount: 1 });
  });

  it('refuses to move the clock back', async () => {
    await expect(advanceClock(modelPath, '2026-11-24T19:00:00Z', record)).rejects.toThrow(/cannot go back/);
  });
});

describe('power', () => {
  it('fires boot triggers at power on (Delay later), and nothing runs on a node that is off', async () => {
    await register('AtBoot', taskXml('<BootTrigger><Enabled>true</Enabled></BootTrigger>'));
    await register('AfterBoot', taskXml('<BootTrigger><Delay>PT5M</Delay></BootTrigger>'));
    await register('Hourly', taskXml(timeTrigger('2026-11-24T20:30:00Z', '', every('PT1H'))));
    await advanceClock(modelPath, '2026-11-24T21:00:00Z', record);
    expect(runs.map((run) => run.name)).toEqual(['Hourly']);

    await powerOff(modelPath, 'arc-node-1');
    await advanceClock(modelPath, '2026-11-24T23:00:00Z', record);
    expect(runs).toHaveLength(1);

    const atBoot = await powerOn(modelPath, 'ARC-NODE-1', record);
    expect(atBoot.map((run) => `${run.name}@${run.timeUtc}`)).toEqual(['AtBoot@2026-11-24T23:00:00Z']);
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']).toMatchObject({ power: 'On', lastBootUtc: '2026-11-24T23:00:00Z' });
    await advanceClock(modelPath, '2026-11-24T23:40:00Z', record);
    expect(runs.slice(2).map((run) => `${run.name}@${run.time}`)).toEqual([
      'AfterBoot@2026-11-24T23:05:00Z',
      'Hourly@2026-11-24T23:30:00Z',
    ]);
    // Powering on a node that is on is no boot.
    expect(await powerOn(modelPath, 'ARC-NODE-1', record)).toEqual([]);
  });

  it('runs a task missed while powered off once at power on when StartWhenAvailable, else not', async () => {
    const missed = timeTrigger('2026-11-24T21:00:00Z', '', every('PT15M', 'PT1H'));
    await register('CatchUp', taskXml(missed, '<StartWhenAvailable>true</StartWhenAvailable>'));
    await register('NoCatchUp', taskXml(missed));
    await register(
      'Expired',
      taskXml(
        timeTrigger('2026-11-24T21:00:00Z', '<EndBoundary>2026-11-24T21:30:00Z</EndBoundary>'),
        '<StartWhenAvailable>true</StartWhenAvailable>',
      ),
    );
    await powerOff(modelPath, 'ARC-NODE-1');
    await advanceClock(modelPath, '2026-11-24T23:00:00Z', record);
    expect(runs).toEqual([]);
    await powerOn(modelPath, 'ARC-NODE-1', record);
    expect(runs.map((run) => `${run.name}@${run.time}`)).toEqual(['CatchUp@2026-11-24T23:00:00Z']);
  });

  it('runs a missed task at the next clock step when the node was switched on by editing the model', async () => {
    await register('CatchUp', taskXml(timeTrigger('2026-11-24T21:00:00Z'), '<StartWhenAvailable>true</StartWhenAvailable>'));
    await powerOff(modelPath, 'ARC-NODE-1');
    await advanceClock(modelPath, '2026-11-24T22:00:00Z', record);
    await updateMachine(modelPath, (model) => {
      model.nodes['ARC-NODE-1']!.power = 'On';
    });
    await advanceClock(modelPath, '2026-11-24T22:10:00Z', record);
    expect(runs.map((run) => `${run.name}@${run.time}`)).toEqual(['CatchUp@2026-11-24T22:00:00Z']);
  });

  it('ends open sessions at power off; a session opens only on a registered endpoint of a running node', async () => {
    await host.execute(
      [
        op('ensureDirectory', { path: 'C:\\ProgramData\\ArcRemoteSupport' }),
        op('writeFile', { path: 'C:\\ProgramData\\ArcRemoteSupport\\ArcRemoteSupport.pssc', content: '@{}' }),
        op('registerSessionConfiguration', { name: 'ArcRemoteSupport', path: 'C:\\ProgramData\\ArcRemoteSupport\\ArcRemoteSupport.pssc' }),
      ],
      { phase: 'test' },
    );
    const session = await openSession(modelPath, 'ARC-NODE-1', 'arcremotesupport', 'CONTOSO\\engineer1');
    expect(session).toEqual({
      id: expect.any(String),
      configurationName: 'ArcRemoteSupport',
      user: 'CONTOSO\\engineer1',
      startedAtUtc: NOW,
    });
    const [listed] = await host.execute([op('listSessions', { configurationName: 'ArcRemoteSupport' })], { phase: 'test' });
    expect(listed).toEqual({ ok: true, value: { sessions: [{ id: session.id, user: 'CONTOSO\\engineer1', startedAtUtc: NOW }] } });

    await expect(openSession(modelPath, 'ARC-NODE-1', 'Other', 'x')).rejects.toThrow(/no session configuration/);
    await expect(openSession(modelPath, 'ARC-NODE-2', 'ArcRemoteSupport', 'x')).rejects.toThrow(/no session configuration/);
    await powerOff(modelPath, 'ARC-NODE-1');
    expect((await readMachine(modelPath)).nodes['ARC-NODE-1']!.sessions).toEqual([]);
    await expect(openSession(modelPath, 'ARC-NODE-1', 'ArcRemoteSupport', 'x')).rejects.toThrow(/powered off/);
    await expect(powerOff(modelPath, 'ARC-NODE-7')).rejects.toThrow(/no node/);
  });
});

describe('Windows command-line splitting', () => {
  it.each([
    ['a b\tc', ['a', 'b', 'c']],
    ['"C:\\Program Files\\x.js" run', ['C:\\Program Files\\x.js', 'run']],
    ['"a ""quoted"" word"', ['a "quoted" word']],
    ['a\\\\"b c" d', ['a\\b c', 'd']],
    ['a\\"b', ['a"b']],
    ['C:\\dir\\ "" end', ['C:\\dir\\', '', 'end']],
    ['', []],
  ])('%j', (line, expected) => {
    expect(splitWindowsArguments(line)).toEqual(expected);
  });
});
