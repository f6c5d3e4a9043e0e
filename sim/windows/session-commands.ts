/**
 * The commands a simulated JEA session runs on the machine model, once JEA let them through
 * (jea-visibility.ts). Output is text as Out-String formats it (tables), from the model only:
 * - Get-Service [-Name <names, wildcards>] [-DisplayName <names>]: the node's services;
 * - Start-Service, Stop-Service, Restart-Service -Name: change them (stopping one with running
 *   dependents needs -Force, as on Windows; dependents stop with it);
 * - Get-Process [-Name] [-Id]: the processes the model knows (the channel's session processes);
 * - Get-Command: the commands the session shows;
 * - Get-Date: the model's clock.
 * Every other visible command runs with no output: the model holds no data for it.
 * A first plain argument binds to -Name for the commands above; anywhere else it is refused as
 * PowerShell refuses an argument no positional parameter takes.
 */
import type { NodeModel, ServiceEntry } from './machine-model';

export interface CommandRun {
  node: NodeModel;
  now: string;
  /** Bound parameters by lower-case name: values, or true for a switch. */
  bound: Map<string, string[] | true>;
  visibleNames: Array<{ name: string; kind: string }>;
  output: (text: string) => void;
  error: (text: string) => void;
}

const POSITIONAL_NAME = ['get-service', 'start-service', 'stop-service', 'restart-service', 'get-process', 'get-command'];

export function positionalParameter(command: string): string | null {
  return POSITIONAL_NAME.includes(command.toLowerCase()) ? 'Name' : null;
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function table(headers: string[], rows: string[][], output: (text: string) => void): void {
  if (rows.length === 0) return;
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join(' ');
  output('');
  output(line(headers));
  output(line(headers.map((header) => '-'.repeat(header.length))));
  for (const row of rows) output(line(row));
  output('');
}

function values(run: CommandRun, name: string): string[] | null {
  const value = run.bound.get(name.toLowerCase());
  return value === undefined || value === true ? null : value;
}

/** Services matching -Name (wildcards; a plain name also matches a display name) or -DisplayName; errors for plain names that match none. */
function selectServices(run: CommandRun): ServiceEntry[] {
  const names = values(run, 'Name');
  const displayNames = values(run, 'DisplayName');
  if (displayNames) return run.node.services.filter((s) => displayNames.some((d) => wildcard(d).test(s.displayName)));
  if (!names) return [...run.node.services];
  const found: ServiceEntry[] = [];
  for (const name of names) {
    const matches = run.node.services.filter(
      (s) => wildcard(name).test(s.name) || (!/[*?]/.test(name) && s.displayName.toLowerCase() === name.toLowerCase()),
    );
    if (matches.length === 0 && !/[*?]/.test(name)) run.error(`Cannot find any service with service name '${name}'.`);
    for (const match of matches) if (!found.includes(match)) found.push(match);
  }
  return found;
}

function changeServices(run: CommandRun, verb: 'Start' | 'Stop' | 'Restart'): void {
  const force = run.bound.get('force') === true;
  for (const service of selectServices(run)) {
    if (verb !== 'Start') {
      const running = service.dependentServices.filter((d) => run.node.services.some((s) => s.name === d && s.status === 'Running'));
      if (running.length > 0 && !force) {
        run.error(
          `Cannot stop service '${service.name}' because it has dependent services. It can only be stopped if the Force flag is set.`,
        );
        continue;
      }
      for (const dependent of run.node.services.filter((s) => service.dependentServices.includes(s.name))) dependent.status = 'Stopped';
    }
    if (verb === 'Start' && service.startType === 'Disabled') {
      run.error(
        `Service '${service.displayName} (${service.name})' cannot be started due to the following error: Cannot start service ${service.name} on computer '.'.`,
      );
      continue;
    }
    service.status = verb === 'Stop' ? 'Stopped' : 'Running';
  }
}

export function runModelCommand(command: string, run: CommandRun): void {
  switch (command.toLowerCase()) {
    case 'get-service':
      table(
        ['Status', 'Name', 'DisplayName'],
        selectServices(run).map((s) => [s.status, s.name, s.displayName]),
        run.output,
      );
      return;
    case 'start-service':
      return changeServices(run, 'Start');
    case 'stop-service':
      return changeServices(run, 'Stop');
    case 'restart-service':
      return changeServices(run, 'Restart');
    case 'get-process': {
      const names = values(run, 'Name');
      const ids = values(run, 'Id');
      const processes = run.node.processes.filter(
        (p) => (!names || names.some((n) => wildcard(n).test(p.name.replace(/\.exe$/i, '')))) && (!ids || ids.includes(String(p.id))),
      );
      table(
        ['Id', 'ProcessName'],
        processes.map((p) => [String(p.id), p.name.replace(/\.exe$/i, '')]),
        run.output,
      );
      return;
    }
    case 'get-command': {
      const names = values(run, 'Name');
      const shown = run.visibleNames.filter((c) => !names || names.some((n) => wildcard(n).test(c.name)));
      table(
        ['CommandType', 'Name'],
        shown.map((c) => [c.kind, c.name]),
        run.output,
      );
      return;
    }
    case 'get-date':
      run.output(run.now);
      return;
    default:
      return;
  }
}
