/**
 * Reads task XML (Task Scheduler 2.0 schema) into what the simulated Task Scheduler needs. The
 * simulated host rejects, at registration, any XML this module cannot read (real Task Scheduler
 * validates the XML at registration too).
 *
 * Supported: TimeTrigger, CalendarTrigger with ScheduleByDay, BootTrigger (Delay), each with
 * Enabled, StartBoundary, EndBoundary and Repetition (Interval, Duration); Settings Enabled,
 * StartWhenAvailable, DeleteExpiredTaskAfter; Exec actions. Other triggers and schedules are kept
 * as `unsupported` and never fire; other actions are ignored.
 */
import type { XMLParser, XMLValidator } from 'fast-xml-parser';
import { splitWindowsArguments } from './command-line';
import { type Duration, fixedDurationMs, parseDuration, parseUtc } from './utc';

export const TASK_NAMESPACE = 'http://schemas.microsoft.com/windows/2004/02/mit/task';

export interface TaskTrigger {
  kind: 'time' | 'daily' | 'boot' | 'unsupported';
  /** The trigger's own Enabled (default true). */
  enabled: boolean;
  /** StartBoundary, epoch ms; null when absent. */
  start: number | null;
  /** EndBoundary: the trigger never fires after it. */
  end: number | null;
  /** BootTrigger Delay (ms). */
  delayMs: number;
  /** ScheduleByDay DaysInterval (daily only; default 1). */
  daysInterval: number;
  /** Repetition Interval, and Duration (null: indefinitely). */
  repetition: { intervalMs: number; durationMs: number | null } | null;
}

export interface ExecAction {
  command: string;
  /** Arguments split as the C runtime splits a command line. */
  arguments: string[];
  /** The Arguments element as written. */
  argumentsText: string;
  workingDirectory: string | null;
}

export interface TaskDefinition {
  /** Settings/Enabled (default true). */
  enabled: boolean;
  /** Settings/StartWhenAvailable (default false). */
  startWhenAvailable: boolean;
  /** Settings/DeleteExpiredTaskAfter; null when absent (the task is never deleted). */
  deleteExpiredTaskAfter: Duration | null;
  triggers: TaskTrigger[];
  actions: ExecAction[];
}

const TRIGGER_KINDS: Record<string, TaskTrigger['kind']> = {
  TimeTrigger: 'time',
  CalendarTrigger: 'daily',
  BootTrigger: 'boot',
  RegistrationTrigger: 'unsupported',
  IdleTrigger: 'unsupported',
  EventTrigger: 'unsupported',
  LogonTrigger: 'unsupported',
  SessionStateChangeTrigger: 'unsupported',
  WnfStateChangeTrigger: 'unsupported',
};

let xmlReader: { parser: XMLParser; validator: typeof XMLValidator } | undefined;

/** The XML parser, loaded on first use: only registering a task needs it, not every handler start that loads the simulator. */
function taskXmlParser(): NonNullable<typeof xmlReader> {
  if (!xmlReader) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { XMLParser: Parser, XMLValidator: validator } = require('fast-xml-parser') as typeof import('fast-xml-parser');
    const parser = new Parser({
      ignoreAttributes: false,
      attributeNamePrefix: '@_',
      parseTagValue: false,
      parseAttributeValue: false,
      htmlEntities: true,
      isArray: (name, jpath) => jpath === `Task.Triggers.${name}` || jpath === 'Task.Actions.Exec',
    });
    xmlReader = { parser, validator };
  }
  return xmlReader;
}

type XmlNode = Record<string, unknown>;

/** Throws an Error saying what is wrong. */
export function parseTaskXml(xml: string): TaskDefinition {
  const text = xml.replace(/^\uFEFF/, '');
  const { parser, validator } = taskXmlParser();
  const valid = validator.validate(text);
  if (valid !== true) throw new Error(`the task XML is not well-formed: ${valid.err.msg} (line ${valid.err.line})`);
  const task = (parser.parse(text) as XmlNode).Task;
  if (!isNode(task)) throw new Error("the task XML's root element is not <Task>");
  if (task['@_xmlns'] !== TASK_NAMESPACE) throw new Error(`<Task> must have the default namespace ${TASK_NAMESPACE}`);

  const settings = isNode(task.Settings) ? task.Settings : {};
  const triggers: TaskTrigger[] = [];
  const triggerNodes = isNode(task.Triggers) ? task.Triggers : {};
  for (const [name, list] of Object.entries(triggerNodes)) {
    const kind = TRIGGER_KINDS[name];
    if (!kind) throw new Error(`unknown trigger <${name}>`);
    for (const node of list as unknown[]) triggers.push(readTrigger(name, kind, isNode(node) ? node : {}));
  }
  const actionsNode = isNode(task.Actions) ? task.Actions : null;
  if (!actionsNode) throw new Error('the task has no <Actions>');
  const actions = ((actionsNode.Exec as unknown[] | undefined) ?? []).map((node) => readExec(isNode(node) ? node : {}));

  const deleteAfter = textOf(settings.DeleteExpiredTaskAfter);
  return {
    enabled: readBoolean(settings.Enabled, true, 'Settings/Enabled'),
    startWhenAvailable: readBoolean(settings.StartWhenAvailable, false, 'Settings/StartWhenAvailable'),
    deleteExpiredTaskAfter: deleteAfter === null ? null : field('Settings/DeleteExpiredTaskAfter', () => parseDuration(deleteAfter)),
    triggers,
    actions,
  };
}

function readTrigger(name: string, kind: TaskTrigger['kind'], node: XmlNode): TaskTrigger {
  const at = (element: string) => `${name}/${element}`;
  const start = textOf(node.StartBoundary);
  const end = textOf(node.EndBoundary);
  const delay = textOf(node.Delay);
  let resolvedKind = kind;
  let daysInterval = 1;
  if (kind === 'daily') {
    const byDay = node.ScheduleByDay;
    if (byDay === undefined)
      resolvedKind = 'unsupported'; // weekly and monthly schedules
    else {
      const interval = textOf(isNode(byDay) ? byDay.DaysInterval : undefined);
      daysInterval = interval === null ? 1 : Number(interval);
      if (!Number.isInteger(daysInterval) || daysInterval < 1 || daysInterval > 365) {
        throw new Error(`${at('ScheduleByDay/DaysInterval')} must be a whole number from 1 to 365`);
      }
    }
  }
  if (resolvedKind === 'time' && start === null) throw new Error(`${at('StartBoundary')} is required`);
  if (resolvedKind === 'daily' && start === null) throw new Error(`${at('StartBoundary')} is required`);
  return {
    kind: resolvedKind,
    enabled: readBoolean(node.Enabled, true, at('Enabled')),
    start: start === null ? null : field(at('StartBoundary'), () => parseUtc(start)),
    end: end === null ? null : field(at('EndBoundary'), () => parseUtc(end)),
    delayMs: delay === null ? 0 : field(at('Delay'), () => fixedDurationMs(delay)),
    daysInterval,
    repetition: readRepetition(node.Repetition, at('Repetition')),
  };
}

function readRepetition(node: unknown, where: string): TaskTrigger['repetition'] {
  if (node === undefined) return null;
  const interval = textOf(isNode(node) ? node.Interval : undefined);
  if (interval === null) throw new Error(`${where}/Interval is required`);
  const intervalMs = field(`${where}/Interval`, () => fixedDurationMs(interval));
  if (intervalMs < 60_000 || intervalMs > 31 * 86_400_000) throw new Error(`${where}/Interval must be from PT1M to P31D`);
  const duration = textOf(isNode(node) ? node.Duration : undefined);
  const durationMs = duration === null ? null : field(`${where}/Duration`, () => fixedDurationMs(duration));
  if (durationMs !== null && durationMs < 60_000) throw new Error(`${where}/Duration must be at least PT1M`);
  return { intervalMs, durationMs };
}

function readExec(node: XmlNode): ExecAction {
  const command = textOf(node.Command);
  if (!command) throw new Error('Exec/Command is required');
  const argumentsText = textOf(node.Arguments) ?? '';
  return { command, arguments: splitWindowsArguments(argumentsText), argumentsText, workingDirectory: textOf(node.WorkingDirectory) };
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An element's text; an empty element is '' and an absent one null. */
function textOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (isNode(value) && typeof value['#text'] === 'string') return value['#text'];
  return isNode(value) ? '' : String(value);
}

function readBoolean(value: unknown, fallback: boolean, where: string): boolean {
  const text = textOf(value);
  if (text === null) return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  throw new Error(`${where} must be true or false, not '${text}'`);
}

function field<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}
