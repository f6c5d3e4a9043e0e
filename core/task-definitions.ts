/**
 * The agent's three scheduled tasks as Task Scheduler 2.0 XML (pure: same inputs, same bytes).
 *
 * Every task runs the agent from its stable folder as SYSTEM, never from the versioned extension
 * folder (an upgrade or uninstall of the extension must not break expiry). Times are UTC with `Z`
 * so a node's time zone or DST cannot move an expiry. Trigger children follow the order Windows
 * writes when it exports a task (Repetition, StartBoundary, EndBoundary, Enabled, then the
 * trigger's own), which is also the order the XSD in shared/specs checks.
 */
import {
  AGENT_FOLDER,
  AGENT_NODE,
  AGENT_SCRIPT,
  CHANNEL_TASK,
  COLLECT_LOGS_TASK,
  RECONCILE_TASK,
  RETENTION_TASK,
  TASK_FOLDER,
  expireTaskName,
} from './node-layout';

export const TASK_NAMESPACE = 'http://schemas.microsoft.com/windows/2004/02/mit/task';

/** LocalSystem. */
export const SYSTEM_SID = 'S-1-5-18';

/**
 * How long after expiresAt a node that was off still runs the expire task at boot
 * (StartWhenAvailable only catches up on triggers whose EndBoundary has not passed). A day covers
 * maintenance reboots and Task Scheduler's own catch-up delay after boot; a node off for longer
 * is caught by Reconcile at boot, which fails closed.
 */
export const EXPIRE_CATCH_UP_WINDOW = 'P1D';
const EXPIRE_CATCH_UP_WINDOW_MS = 86_400_000;

/**
 * Task Scheduler deletes the expire task this long after its EndBoundary. Belt and braces only:
 * the expire command unregisters its own task, because Server 2016 was seen not to delete
 * expired tasks.
 */
export const EXPIRE_DELETE_AFTER = 'PT1H';

export const RECONCILE_INTERVAL = 'PT15M';

/** Retention runs daily at this UTC time (hh:mm), outside business hours in most of Europe. */
export const RETENTION_TIME_UTC = '03:30';

/**
 * Execution limits. Reconcile's stays under its 15-minute interval so that, with IgnoreNew, a hung
 * run is killed before it can swallow the next one; retention may walk many transcripts.
 */
/** PT0S: no limit; the channel runs as long as its grant and exits by itself after it. */
const TIME_LIMIT = { expire: 'PT10M', reconcile: 'PT10M', retention: 'PT1H', channel: 'PT0S', collectLogs: 'PT2H' } as const;

/** The collection starts this long after its request is registered (a TimeTrigger must lie ahead of registration). */
export const COLLECT_LOGS_DELAY_MS = 30_000;

/** How often Task Scheduler starts the channel again if it is not running (a running one is left alone). */
export const CHANNEL_RESTART_INTERVAL = 'PT5M';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** What each task is for: names, agent commands and schedules, for plans, logs and status. */
export const TASKS = {
  reconcile: { folder: TASK_FOLDER, name: RECONCILE_TASK, command: 'reconcile', schedule: `at boot and every ${RECONCILE_INTERVAL}` },
  retention: { folder: TASK_FOLDER, name: RETENTION_TASK, command: 'retention', schedule: `daily at ${RETENTION_TIME_UTC}Z` },
  expire: {
    folder: TASK_FOLDER,
    name: expireTaskName('<grantId>'),
    command: 'expire --grant <grantId>',
    schedule: 'once at the grant expiry',
  },
  channel: {
    folder: TASK_FOLDER,
    name: CHANNEL_TASK,
    command: 'channel',
    schedule: `at registration, at boot and every ${CHANNEL_RESTART_INTERVAL} while not running`,
  },
  collectLogs: {
    folder: TASK_FOLDER,
    name: COLLECT_LOGS_TASK,
    command: 'collect-logs',
    schedule: 'once, shortly after the owner requests a collection',
  },
} as const;

export interface ExpireTaskInput {
  grantId: string;
  expiresAt: Date;
  registeredAt: Date;
}

export interface RecurringTaskInput {
  registeredAt: Date;
}

/** Fires once at `start`; a machine that was off then runs it when back within the catch-up window. */
function oneShotTrigger(start: number): string[] {
  return [
    '<TimeTrigger>',
    `  <StartBoundary>${utc(start)}</StartBoundary>`,
    `  <EndBoundary>${utc(start + EXPIRE_CATCH_UP_WINDOW_MS)}</EndBoundary>`,
    '  <Enabled>true</Enabled>',
    '</TimeTrigger>',
  ];
}

/** `Expire-<grantId>`: revokes that grant once, at its expiry. */
export function expireTask({ grantId, expiresAt, registeredAt }: ExpireTaskInput): string {
  // The id becomes part of a task name and a command line: only a UUID may get there.
  if (!UUID.test(grantId)) throw new Error(`grantId must be a UUID, not ${JSON.stringify(grantId)}`);
  // Rounded up: the task must never fire before the grant's expiry.
  const start = Math.ceil(timeOf('expiresAt', expiresAt) / 1000) * 1000;
  const trigger = oneShotTrigger(start);
  return taskXml({
    name: expireTaskName(grantId),
    description: `Revokes the remote support grant ${grantId} at its expiry, ${utc(start)}, then unregisters itself.`,
    registeredAt,
    triggers: trigger,
    executionTimeLimit: TIME_LIMIT.expire,
    deleteExpiredTaskAfter: EXPIRE_DELETE_AFTER,
    command: ['expire', '--grant', grantId],
  });
}

/** `Reconcile`: at boot (fail closed as early as possible) and every 15 minutes, indefinitely. */
export function reconcileTask({ registeredAt }: RecurringTaskInput): string {
  const triggers = bootAndEvery(RECONCILE_INTERVAL, registeredAt);
  return taskXml({
    name: RECONCILE_TASK,
    description: 'Converges this node to the desired remote support access; revokes when in doubt.',
    registeredAt,
    triggers,
    executionTimeLimit: TIME_LIMIT.reconcile,
    command: ['reconcile'],
  });
}

/**
 * The channel's listener (`agent channel`), registered while a grant with a channel is in force:
 * it starts at registration, at boot, and again within minutes whenever it is not running
 * (IgnoreNew leaves a running one alone); it exits by itself when no grant is in force.
 */
export function channelTask({ registeredAt }: RecurringTaskInput): string {
  const triggers = [
    '<RegistrationTrigger>',
    '  <Enabled>true</Enabled>',
    '</RegistrationTrigger>',
    ...bootAndEvery(CHANNEL_RESTART_INTERVAL, registeredAt),
  ];
  return taskXml({
    name: CHANNEL_TASK,
    description: "Listens on the grant's Azure Relay hybrid connection and hosts support engineers' JEA sessions while the grant lasts.",
    registeredAt,
    triggers,
    executionTimeLimit: TIME_LIMIT.channel,
    restartOnFailure: { interval: 'PT1M', count: 3 },
    command: ['channel'],
  });
}

/**
 * `CollectLogs`: one run of `agent collect-logs`, 30 s after registration (StartWhenAvailable runs
 * it after a reboot within the day); a failed run (the upload cut) is started again and resumes.
 */
export function collectLogsTask({ registeredAt }: RecurringTaskInput): string {
  const start = Math.ceil((timeOf('registeredAt', registeredAt) + COLLECT_LOGS_DELAY_MS) / 1000) * 1000;
  const trigger = oneShotTrigger(start);
  return taskXml({
    name: COLLECT_LOGS_TASK,
    description:
      "Collects the diagnostic logs the machine's owner, or a support engineer under a grant that allows it, asked for and uploads them to the owner's storage container.",
    registeredAt,
    triggers: trigger,
    executionTimeLimit: TIME_LIMIT.collectLogs,
    deleteExpiredTaskAfter: EXPIRE_DELETE_AFTER,
    restartOnFailure: { interval: 'PT5M', count: 3 },
    command: ['collect-logs'],
  });
}

/** `Retention`: daily at a fixed UTC time, from the first such time at or after registration. */
export function retentionTask({ registeredAt }: RecurringTaskInput): string {
  const triggers = [
    '<CalendarTrigger>',
    `  <StartBoundary>${utc(nextDailyTime(wholeSeconds('registeredAt', registeredAt)))}</StartBoundary>`,
    '  <Enabled>true</Enabled>',
    '  <ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>',
    '</CalendarTrigger>',
  ];
  return taskXml({
    name: RETENTION_TASK,
    description: 'Deletes remote support transcripts, history and logs older than the retention period.',
    registeredAt,
    triggers,
    executionTimeLimit: TIME_LIMIT.retention,
    command: ['retention'],
  });
}

/** The bytes Task Scheduler expects: UTF-16LE with a BOM, as the declaration says. */
/** At boot, and every `interval` from registration on, indefinitely (no Duration). */
function bootAndEvery(interval: string, registeredAt: Date): string[] {
  return [
    '<BootTrigger>',
    '  <Enabled>true</Enabled>',
    '</BootTrigger>',
    '<TimeTrigger>',
    `  <Repetition><Interval>${interval}</Interval><StopAtDurationEnd>false</StopAtDurationEnd></Repetition>`,
    `  <StartBoundary>${utc(wholeSeconds('registeredAt', registeredAt))}</StartBoundary>`,
    '  <Enabled>true</Enabled>',
    '</TimeTrigger>',
  ];
}

export function encodeTaskXml(xml: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml.replace(/^\uFEFF/, ''), 'utf16le')]);
}

/** The Exec action's Arguments: the agent script, then the command, quoted as the C runtime splits them. */
export function agentArguments(command: readonly string[]): string {
  return [AGENT_SCRIPT, ...command].map(quoteArgument).join(' ');
}

interface TaskParts {
  name: string;
  description: string;
  registeredAt: Date;
  /** The children of <Triggers>, one line each. */
  triggers: string[];
  executionTimeLimit: string;
  deleteExpiredTaskAfter?: string;
  /** A run that failed is started again after `interval`, at most `count` times. */
  restartOnFailure?: { interval: string; count: number };
  command: string[];
}

function taskXml(parts: TaskParts): string {
  const settings = [
    '<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    // A server on a UPS may report batteries; expiry must still happen.
    '<DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '<StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '<AllowHardTerminate>true</AllowHardTerminate>',
    // A run missed while the node was off or the service busy still happens.
    '<StartWhenAvailable>true</StartWhenAvailable>',
    // Revoking access must not wait for the network.
    '<RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>',
    '<AllowStartOnDemand>true</AllowStartOnDemand>',
    ...(parts.restartOnFailure
      ? [
          `<RestartOnFailure><Interval>${parts.restartOnFailure.interval}</Interval><Count>${parts.restartOnFailure.count}</Count></RestartOnFailure>`,
        ]
      : []),
    '<Enabled>true</Enabled>',
    '<Hidden>false</Hidden>',
    '<RunOnlyIfIdle>false</RunOnlyIfIdle>',
    '<WakeToRun>false</WakeToRun>',
    `<ExecutionTimeLimit>${parts.executionTimeLimit}</ExecutionTimeLimit>`,
    ...(parts.deleteExpiredTaskAfter ? [`<DeleteExpiredTaskAfter>${parts.deleteExpiredTaskAfter}</DeleteExpiredTaskAfter>`] : []),
    '<Priority>7</Priority>',
  ];
  const lines = [
    '<?xml version="1.0" encoding="UTF-16"?>',
    `<Task version="1.2" xmlns="${TASK_NAMESPACE}">`,
    '  <RegistrationInfo>',
    `    <Date>${utc(wholeSeconds('registeredAt', parts.registeredAt))}</Date>`,
    '    <Author>ArcRemoteSupport</Author>',
    `    <Description>${escapeXml(parts.description)}</Description>`,
    `    <URI>${escapeXml(TASK_FOLDER + parts.name)}</URI>`,
    '  </RegistrationInfo>',
    '  <Triggers>',
    ...parts.triggers.map((line) => `    ${line}`),
    '  </Triggers>',
    '  <Principals>',
    '    <Principal id="Author">',
    `      <UserId>${SYSTEM_SID}</UserId>`,
    '      <RunLevel>HighestAvailable</RunLevel>',
    '    </Principal>',
    '  </Principals>',
    '  <Settings>',
    ...settings.map((line) => `    ${line}`),
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${escapeXml(AGENT_NODE)}</Command>`,
    `      <Arguments>${escapeXml(agentArguments(parts.command))}</Arguments>`,
    `      <WorkingDirectory>${escapeXml(AGENT_FOLDER)}</WorkingDirectory>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function timeOf(what: string, date: Date): number {
  const time = date instanceof Date ? date.getTime() : NaN;
  if (Number.isNaN(time)) throw new Error(`${what} must be a valid Date`);
  return time;
}

function wholeSeconds(what: string, date: Date): number {
  return Math.floor(timeOf(what, date) / 1000) * 1000;
}

/** `2026-11-25T04:00:00Z`: whole seconds, UTC. */
function utc(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The first RETENTION_TIME_UTC at or after `time`. */
function nextDailyTime(time: number): number {
  const [hours, minutes] = RETENTION_TIME_UTC.split(':').map(Number) as [number, number];
  const day = new Date(time);
  const candidate = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hours, minutes);
  return candidate >= time ? candidate : candidate + 86_400_000;
}

/** Quotes an argument with spaces, tabs or quotes the way CommandLineToArgvW reads it back. */
function quoteArgument(argument: string): string {
  if (argument !== '' && !/[\s"]/.test(argument)) return argument;
  // Backslashes are literal except before a quote: double those, and escape the quote.
  const escaped = argument.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1');
  return `"${escaped}"`;
}

/** Element text (quotes need no escaping outside attributes; Windows writes them raw). */
function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
