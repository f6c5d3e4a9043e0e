/**
 * Our own JEA functions that run the node agent (role data `agent:`, jea/agent-call.ts), as a
 * simulated session runs them. Windows runs the generated PowerShell; here the same steps are
 * taken in the same order:
 * - the body's checks, before anything runs (request-log-collection: a window of at most 24 hours,
 *   From before To, To not after the node's clock, not -Hours with -From/-To), refusing with the
 *   body's words;
 * - the agent command line the generated call builds: the declared subcommand, then each declared
 *   flag with its value (--requested-by: the connected user);
 * - the answer: exit 0 prints the agent's lines (history: its log collections only), otherwise
 *   the agent's words become the error.
 * The agent itself is the node's installed one (agent-task-runner.ts runInstalledAgent).
 */
import { AGENT_SWITCH_FLAGS, REQUESTED_BY_FLAG } from '../../jea/agent-call';
import type { FunctionDefinition } from '../../jea/role-model';

/** Bound parameters by lower-case name, as the session binds them. */
export type BoundParameters = ReadonlyMap<string, readonly string[] | true>;

export type AgentFunctionPlan = { argv: string[] } | { error: string };

const USAGE =
  'Give -Hours (1 to 24: the last hours), or -From and -To (UTC times such as 2026-03-01T08:00Z, at most 24 hours apart, ending no later than now).';
const HOUR_MS = 3_600_000;
const MAX_HOURS = 24;

function single(bound: BoundParameters, name: string): string | undefined {
  const value = bound.get(name.toLowerCase());
  return value === undefined || value === true ? undefined : value[0];
}

/** yyyy-MM-ddTHH:mm[:ss]Z as a time, or null when it names no real time (February 30th): as [datetimeoffset] converts it. */
function parseUtcMinute(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?Z$/i.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((part) => Number(part ?? '0')) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(time);
  const same =
    back.getUTCFullYear() === year &&
    back.getUTCMonth() === month - 1 &&
    back.getUTCDate() === day &&
    back.getUTCHours() === hour &&
    back.getUTCMinutes() === minute &&
    back.getUTCSeconds() === second;
  return same ? time : null;
}

/** As the function formats it: to the second, with Z. */
const utcSecond = (time: number): string => `${new Date(time).toISOString().slice(0, 19)}Z`;

/** The flags' values of a log collection request, or the body's refusal. */
function logCollectionValues(bound: BoundParameters, nowUtc: string): Map<string, string> | { error: string } {
  const now = Math.floor(Date.parse(nowUtc) / 1000) * 1000;
  const hoursText = single(bound, 'Hours');
  const fromText = single(bound, 'From');
  const toText = single(bound, 'To');
  let start: number;
  let end: number;
  if (hoursText !== undefined) {
    if (fromText !== undefined || toText !== undefined) return { error: `-Hours ${hoursText} was given with -From or -To. ${USAGE}` };
    end = now;
    start = now - Number(hoursText) * HOUR_MS;
  } else if (fromText === undefined || toText === undefined) {
    return { error: `No window was given. ${USAGE}` };
  } else {
    const from = parseUtcMinute(fromText);
    const to = parseUtcMinute(toText);
    if (to === null) return { error: `-To '${toText}' is not a date and time. ${USAGE}` };
    if (from === null) return { error: `-From '${fromText}' is not a date and time. ${USAGE}` };
    if (to > now) return { error: `-To ${toText} is after now (${utcSecond(now)}): a window ends no later than now.` };
    if (from >= to) return { error: `-From ${fromText} is not before -To ${toText}: give a -From earlier than -To.` };
    if (to - from > MAX_HOURS * HOUR_MS)
      return { error: `-From ${fromText} to -To ${toText} is ${(to - from) / HOUR_MS} hours: a window is at most 24 hours.` };
    start = from;
    end = to;
  }
  const categories: string[] = [];
  const given = bound.get('category');
  for (const name of given === undefined || given === true ? [] : given) if (!categories.includes(name)) categories.push(name);
  return new Map([
    ['--from', utcSecond(start)],
    ['--to', utcSecond(end)],
    ['--category', categories.join(',')],
  ]);
}

/**
 * The agent command line a call of `f` runs, or why the function refuses before running anything.
 * `connectedUser` is COMPUTER\name, as WinRM names the session's user in $PSSenderInfo.
 */
export function planAgentFunction(f: FunctionDefinition, bound: BoundParameters, nowUtc: string, connectedUser: string): AgentFunctionPlan {
  const agent = f.agent;
  if (!agent) return { error: `${f.name} runs no agent command` };
  let values: Map<string, string>;
  if (agent.subcommand === 'request-log-collection') {
    const checked = logCollectionValues(bound, nowUtc);
    if ('error' in checked) return checked;
    values = checked;
  } else {
    values = new Map();
  }
  values.set(REQUESTED_BY_FLAG, connectedUser);
  const argv = [agent.subcommand];
  for (const flag of agent.arguments) {
    argv.push(flag);
    if (AGENT_SWITCH_FLAGS.includes(flag)) continue;
    const value = values.get(flag);
    if (value === undefined) return { error: `${f.name} has no value for ${flag} in the simulated session` };
    argv.push(value);
  }
  return { argv };
}

/** The log collection entries of `history --json` output, as the engineer's function lists them. */
function logCollectionRows(stdout: string): string[][] {
  const rows: string[][] = [];
  for (const line of stdout.split(/\r?\n/)) {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const entry = (value as { entry?: { kind?: string; logCollection?: Record<string, unknown> } } | null)?.entry;
    const record = entry?.kind === 'LogCollection' ? entry.logCollection : undefined;
    if (!record) continue;
    const text = (key: string) => (record[key] === undefined || record[key] === null ? '' : String(record[key]));
    rows.push([text('startedAt'), text('collectionId'), text('trigger'), text('requestedBy'), text('outcome')]);
  }
  return rows;
}

/** What the function prints for the agent's answer: output lines, or the error. */
export function agentFunctionAnswer(
  f: FunctionDefinition,
  run: { exitCode: number; stdout: string; stderr: string },
): { output: string[] } | { error: string } {
  const lines = [run.stdout, run.stderr]
    .join('\n')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  if (f.agent?.subcommand === 'history') {
    if (run.exitCode !== 0) return { error: `The node agent could not read the history (exit code ${run.exitCode}): ${lines.join(' ')}` };
    const rows = logCollectionRows(run.stdout);
    if (rows.length === 0) return { output: [] };
    const headers = ['StartedAt', 'CollectionId', 'Trigger', 'RequestedBy', 'Outcome'];
    const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join(' ');
    return { output: ['', line(headers), line(headers.map((h) => '-'.repeat(h.length))), ...rows.map(line), ''] };
  }
  if (run.exitCode === 0) return { output: lines };
  return {
    error: lines.length > 0 ? lines.join(' ') : `The node agent refused the request (exit code ${run.exitCode}) without saying why.`,
  };
}
