/**
 * The agent's scheduled tasks: valid Task Scheduler 2.0 XML (checked by xmllint against the XSD
 * in shared/specs, as the UTF-16LE bytes Windows is given), the safety properties the design asks
 * for, and what they do on the simulated machine's clock.
 */
import execa from 'execa';
import { XMLParser } from 'fast-xml-parser';
import { promises as fs } from 'fs';
import path from 'path';
import { AGENT_FOLDER, AGENT_NODE, AGENT_SCRIPT, TASK_FOLDER, expireTaskName } from '../../core/node-layout';
import {
  TASKS,
  agentArguments,
  channelTask,
  collectLogsTask,
  encodeTaskXml,
  expireTask,
  reconcileTask,
  retentionTask,
} from '../../core/task-definitions';
import { op } from '../../windows/operations';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { type RunTaskAction, type ScheduledTaskRun, advanceClock, powerOff, powerOn } from '../../sim/windows/simulation';
import { makeTempDir } from '../support/cms';

const repoRoot = path.resolve(__dirname, '..', '..');
const XSD = path.resolve(repoRoot, '..', 'shared', 'specs', 'task-scheduler', 'TaskSchedulerV2Schema.xsd');

const NOW = '2026-11-24T20:00:00Z';
const GRANT = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const EXPIRES = '2026-11-25T04:00:00Z';
const registeredAt = new Date(NOW);

const TASK_XML = {
  expire: () => expireTask({ grantId: GRANT, expiresAt: new Date(EXPIRES), registeredAt }),
  reconcile: () => reconcileTask({ registeredAt }),
  retention: () => retentionTask({ registeredAt }),
  channel: () => channelTask({ registeredAt }),
  collectLogs: () => collectLogsTask({ registeredAt }),
};

let work: string;

beforeAll(async () => {
  const probe = await execa('xmllint', ['--version'], { reject: false });
  if (probe.exitCode !== 0) throw new Error('xmllint is missing: run scripts/dev/setup-test-tools.sh (Debian libxml2-utils)');
});
beforeEach(async () => {
  work = await makeTempDir('ars-taskdefs');
});
afterEach(() => fs.rm(work, { recursive: true, force: true }));

/** xmllint's verdict on the bytes as Task Scheduler would get them. */
async function validate(xml: string, name = 'task.xml'): Promise<execa.ExecaReturnValue> {
  const file = path.join(work, name);
  await fs.writeFile(file, encodeTaskXml(xml));
  return execa('xmllint', ['--noout', '--schema', XSD, file], { reject: false });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (name) => ['TimeTrigger', 'BootTrigger', 'CalendarTrigger', 'RegistrationTrigger', 'Exec'].includes(name),
});
/** Parsed XML, loosely typed: the assertions check its shape. */
type Node = Record<string, any>;
const parse = (xml: string): Node => (parser.parse(xml) as Node).Task as Node;
const triggersOf = (task: Node): Node[] => Object.values(task.Triggers as Node).flat() as Node[];

describe('task XML', () => {
  it.each(Object.keys(TASK_XML) as Array<keyof typeof TASK_XML>)(
    '%s is valid against the Task Scheduler 2.0 schema as UTF-16LE with a BOM',
    async (kind) => {
      const xml = TASK_XML[kind]();
      expect(xml.startsWith('<?xml version="1.0" encoding="UTF-16"?>')).toBe(true);
      const bytes = encodeTaskXml(xml);
      expect([...bytes.subarray(0, 4)]).toEqual([0xff, 0xfe, 0x3c, 0x00]); // BOM, then '<' in UTF-16LE
      expect(bytes.subarray(2).toString('utf16le')).toBe(xml);

      const result = await validate(xml);
      expect(result.stderr).toContain('validates');
      expect(result.exitCode).toBe(0);
    },
  );

  it('xmllint does reject a task the schema forbids (the check above is live)', async () => {
    // The XSD wants StartBoundary before EndBoundary.
    const xml = TASK_XML.expire().replace(/(\s*<StartBoundary>.*?<\/StartBoundary>)(\s*<EndBoundary>.*?<\/EndBoundary>)/, '$2$1');
    const result = await validate(xml);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/not expected/);
  });

  it.each(Object.keys(TASK_XML) as Array<keyof typeof TASK_XML>)(
    '%s runs as SYSTEM, catches up missed runs and never waits for batteries or network',
    (kind) => {
      const task = parse(TASK_XML[kind]());
      expect(task['@_xmlns']).toBe('http://schemas.microsoft.com/windows/2004/02/mit/task');
      expect(task.Principals.Principal).toMatchObject({ '@_id': 'Author', UserId: 'S-1-5-18', RunLevel: 'HighestAvailable' });
      expect(task.Principals.Principal.LogonType).toBeUndefined();
      expect(task.Actions['@_Context']).toBe('Author');
      expect(task.Settings).toMatchObject({
        StartWhenAvailable: 'true',
        MultipleInstancesPolicy: 'IgnoreNew',
        DisallowStartIfOnBatteries: 'false',
        StopIfGoingOnBatteries: 'false',
        RunOnlyIfNetworkAvailable: 'false',
        Enabled: 'true',
      });
      // Every task is bounded but the channel's, which runs as long as its grant and exits by itself.
      if (kind === 'channel') expect(task.Settings.ExecutionTimeLimit).toBe('PT0S');
      else expect(task.Settings.ExecutionTimeLimit).toMatch(/^PT\d+[MH]$/);
    },
  );

  it('starts the channel at registration, at boot and every 5 minutes while it is not running, and again after a failure', () => {
    const task = parse(TASK_XML.channel());
    expect(Object.keys(task.Triggers as Node).sort()).toEqual(['BootTrigger', 'RegistrationTrigger', 'TimeTrigger']);
    expect(task.Triggers.TimeTrigger[0].Repetition).toMatchObject({ Interval: 'PT5M', StopAtDurationEnd: 'false' });
    expect(task.Settings.MultipleInstancesPolicy).toBe('IgnoreNew');
    expect(task.Settings.RestartOnFailure).toEqual({ Interval: 'PT1M', Count: '3' });
    expect(task.Actions.Exec[0].Arguments).toBe(agentArguments(['channel']));
  });

  it.each(Object.keys(TASK_XML) as Array<keyof typeof TASK_XML>)('%s writes every time in UTC with Z, in whole seconds', (kind) => {
    const xml = TASK_XML[kind]();
    const times = [...xml.matchAll(/<(StartBoundary|EndBoundary|Date)>([^<]*)</g)].map((match) => match[2]);
    expect(times.length).toBeGreaterThan(0);
    for (const time of times) expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });

  it.each(Object.keys(TASK_XML) as Array<keyof typeof TASK_XML>)(
    '%s gives every trigger an EndBoundary when DeleteExpiredTaskAfter is set',
    (kind) => {
      const task = parse(TASK_XML[kind]());
      if (task.Settings.DeleteExpiredTaskAfter === undefined) return;
      for (const trigger of triggersOf(task)) expect(trigger.EndBoundary).toBeDefined();
    },
  );

  it.each(Object.keys(TASK_XML) as Array<keyof typeof TASK_XML>)(
    '%s runs the agent from its stable folder, never from a versioned extension folder',
    (kind) => {
      const [exec, ...more] = parse(TASK_XML[kind]()).Actions.Exec as Node[];
      expect(more).toEqual([]);
      expect(exec!.Command).toBe(AGENT_NODE);
      expect(exec!.WorkingDirectory).toBe(AGENT_FOLDER);
      expect(exec!.Arguments.startsWith(`"${AGENT_SCRIPT}" `)).toBe(true);
      for (const text of [exec!.Command, exec!.Arguments, exec!.WorkingDirectory] as string[]) {
        expect(text).not.toMatch(/Packages\\Plugins|\\bin\\handler|\\\d+\.\d+(\.\d+)*\\/i);
      }
    },
  );

  it('expire fires once at expiresAt, may catch up for a day, and is deleted an hour after that', () => {
    const task = parse(TASK_XML.expire());
    expect(task.Triggers.TimeTrigger).toEqual([{ StartBoundary: EXPIRES, EndBoundary: '2026-11-26T04:00:00Z', Enabled: 'true' }]);
    expect(task.Triggers.TimeTrigger[0].Repetition).toBeUndefined();
    expect(task.Settings.DeleteExpiredTaskAfter).toBe('PT1H');
    expect(task.RegistrationInfo.URI).toBe(`${TASK_FOLDER}${expireTaskName(GRANT)}`);
    expect(task.Actions.Exec[0].Arguments).toBe(`"${AGENT_SCRIPT}" expire --grant ${GRANT}`);
  });

  it('expire never fires before the expiry: a fractional second rounds up', () => {
    const xml = expireTask({ grantId: GRANT, expiresAt: new Date('2026-11-25T04:00:00.250Z'), registeredAt });
    expect(xml).toContain('<StartBoundary>2026-11-25T04:00:01Z</StartBoundary>');
  });

  it('expire accepts only a UUID as grant id (it becomes a task name and a command line)', () => {
    for (const grantId of ['', 'x', `${GRANT}" & calc`, `${GRANT} --other`, '..\\evil']) {
      expect(() => expireTask({ grantId, expiresAt: new Date(EXPIRES), registeredAt })).toThrow(/UUID/);
    }
    expect(() => expireTask({ grantId: GRANT, expiresAt: new Date('nope'), registeredAt })).toThrow(/expiresAt/);
  });

  it('reconcile has a boot trigger and a 15-minute repetition without end', () => {
    const task = parse(TASK_XML.reconcile());
    expect(task.Triggers.BootTrigger).toEqual([{ Enabled: 'true' }]);
    expect(task.Triggers.TimeTrigger).toEqual([
      { Repetition: { Interval: 'PT15M', StopAtDurationEnd: 'false' }, StartBoundary: NOW, Enabled: 'true' },
    ]);
    expect(task.Settings.DeleteExpiredTaskAfter).toBeUndefined();
  });

  it('retention runs daily at 03:30Z from the first 03:30Z at or after registration', () => {
    const startOf = (at: string) => parse(retentionTask({ registeredAt: new Date(at) })).Triggers.CalendarTrigger[0];
    expect(startOf(NOW)).toEqual({ StartBoundary: '2026-11-25T03:30:00Z', Enabled: 'true', ScheduleByDay: { DaysInterval: '1' } });
    expect(startOf('2026-11-24T03:30:00Z').StartBoundary).toBe('2026-11-24T03:30:00Z');
    expect(startOf('2026-12-31T23:59:59Z').StartBoundary).toBe('2027-01-01T03:30:00Z');
  });

  it('is deterministic and describes each task', () => {
    for (const build of Object.values(TASK_XML)) expect(build()).toBe(build());
    expect(TASKS.reconcile).toMatchObject({ folder: TASK_FOLDER, name: 'Reconcile', command: 'reconcile' });
    expect(TASKS.retention).toMatchObject({ folder: TASK_FOLDER, name: 'Retention', command: 'retention' });
  });

  it('quotes arguments as the C runtime reads them back', () => {
    expect(agentArguments(['say', 'a b', 'q"x', 'end\\'])).toBe(`"${AGENT_SCRIPT}" say "a b" "q\\"x" end\\`);
    expect(agentArguments(['dir\\ x\\'])).toBe(`"${AGENT_SCRIPT}" "dir\\ x\\\\"`);
  });
});

describe('on the simulated clock', () => {
  let modelPath: string;
  let host: SimulatedHost;
  let runs: ScheduledTaskRun[];
  /** Records each run; the expire command also unregisters its task, as the agent does. */
  const agent: RunTaskAction = async (node, run) => {
    runs.push(run);
    const [args] = run.actions.map((action) => action.arguments);
    if (args?.[1] === 'expire')
      await host.execute([op('deleteTask', { folder: run.folder, name: run.name })], { phase: 'agent expire', node });
  };
  const recordOnly: RunTaskAction = (_node, run) => void runs.push(run);

  async function register(name: string, xml: string): Promise<void> {
    const [outcome] = await host.execute([op('registerTask', { folder: TASK_FOLDER, name, xml })], { phase: 'test' });
    if (!outcome?.ok) throw new Error(JSON.stringify(outcome));
  }
  const timesOf = (name: string) => runs.filter((run) => run.name === name).map((run) => run.timeUtc);
  const hasTask = async (name: string) =>
    (await readMachine(modelPath)).nodes['ARC-NODE-1']!.tasks[`${TASK_FOLDER}${name}`.toLowerCase()] !== undefined;
  const at = (base: string, minutes: number) => new Date(Date.parse(base) + minutes * 60_000).toISOString().replace('.000Z', 'Z');

  beforeEach(async () => {
    modelPath = path.join(work, 'machine.json');
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: NOW }));
    host = new SimulatedHost(modelPath);
    runs = [];
  });

  it('expire fires once, at expiresAt, with the agent command line, and is gone afterwards', async () => {
    const name = expireTaskName(GRANT);
    await register(name, TASK_XML.expire());
    await advanceClock(modelPath, at(EXPIRES, 3 * 24 * 60), agent);
    expect(timesOf(name)).toEqual([EXPIRES]);
    expect(runs[0]!.actions).toEqual([
      expect.objectContaining({
        command: AGENT_NODE,
        arguments: [AGENT_SCRIPT, 'expire', '--grant', GRANT],
        workingDirectory: AGENT_FOLDER,
      }),
    ]);
    expect(await hasTask(name)).toBe(false);
  });

  it('expire is deleted by Task Scheduler an hour after its EndBoundary if the action could not unregister it', async () => {
    const name = expireTaskName(GRANT);
    await register(name, TASK_XML.expire());
    await advanceClock(modelPath, at(EXPIRES, 24 * 60 + 59), recordOnly);
    expect(timesOf(name)).toEqual([EXPIRES]);
    expect(await hasTask(name)).toBe(true);
    await advanceClock(modelPath, at(EXPIRES, 24 * 60 + 60), recordOnly);
    expect(await hasTask(name)).toBe(false);
  });

  it('a node powered off across the expiry runs the expire task at power-on, within the catch-up window', async () => {
    const name = expireTaskName(GRANT);
    await register(name, TASK_XML.expire());
    await advanceClock(modelPath, at(EXPIRES, -10), agent);
    await powerOff(modelPath, 'ARC-NODE-1');
    await advanceClock(modelPath, at(EXPIRES, 5 * 60), agent);
    expect(timesOf(name)).toEqual([]);
    await powerOn(modelPath, 'ARC-NODE-1', agent);
    expect(timesOf(name)).toEqual([at(EXPIRES, 5 * 60)]);
    expect(await hasTask(name)).toBe(false);
  });

  it('a node off past the catch-up window does not run the expire task (Reconcile at boot revokes instead)', async () => {
    const name = expireTaskName(GRANT);
    await register(name, TASK_XML.expire());
    await register('Reconcile', TASK_XML.reconcile());
    await advanceClock(modelPath, at(EXPIRES, -10), recordOnly);
    runs = [];
    await powerOff(modelPath, 'ARC-NODE-1');
    const bootAt = at(EXPIRES, 24 * 60 + 1);
    await advanceClock(modelPath, bootAt, recordOnly);
    await powerOn(modelPath, 'ARC-NODE-1', recordOnly);
    expect(runs.map((run) => [run.name, run.timeUtc])).toEqual([['Reconcile', bootAt]]);
  });

  it('reconcile fires at boot and every 15 minutes', async () => {
    await register('Reconcile', TASK_XML.reconcile());
    // Boot at 20:07, off the quarter hours, so the boot run is the BootTrigger's alone.
    await advanceClock(modelPath, at(NOW, 7), agent);
    await powerOff(modelPath, 'ARC-NODE-1');
    await powerOn(modelPath, 'ARC-NODE-1', agent);
    await advanceClock(modelPath, at(NOW, 127), agent);
    const quarterHours = Array.from({ length: 8 }, (_, index) => at(NOW, 15 * (index + 1)));
    expect(timesOf('Reconcile')).toEqual([at(NOW, 7), ...quarterHours]);
    expect(runs[0]!.actions[0]!.arguments).toEqual([AGENT_SCRIPT, 'reconcile']);
  });

  it('retention fires daily at 03:30Z', async () => {
    await register('Retention', TASK_XML.retention());
    await advanceClock(modelPath, at(NOW, 3 * 24 * 60), agent);
    expect(timesOf('Retention')).toEqual(['2026-11-25T03:30:00Z', '2026-11-26T03:30:00Z', '2026-11-27T03:30:00Z']);
    expect(runs[0]!.actions[0]!.arguments).toEqual([AGENT_SCRIPT, 'retention']);
  });
});
