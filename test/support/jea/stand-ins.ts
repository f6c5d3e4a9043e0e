/**
 * Stand-ins for the Windows commands the JEA proofs need on Linux, generated from the Windows
 * Server 2016 inventory: every command of each module a role imports, declaring that command's
 * real parameters (names, aliases, parameter sets, what is mandatory where, pipeline input,
 * positions), including the ones a role must hide. A refusal in the proofs then says something
 * about the role: the stand-in would have taken the parameter.
 *
 * Cmdlets become C# [Cmdlet] classes, functions (CDXML and script modules on Windows) advanced
 * functions. Both hand their bound parameters to ArsJeaStandIn.Behavior (StandInBehavior.cs), which
 * runs the fake service table for the service cmdlets and echoes "Name Key=Value;..." otherwise.
 */
import { Inventory, InventoryCommand, InventoryParameter } from './inventory';

export type CommandKind = 'cmdlet' | 'function';

export interface StandInCommand {
  name: string;
  kind: CommandKind;
  /** What the stand-in declares: the inventory's parameters, ShouldProcess ones included. */
  parameters: Array<{ name: string; aliases: string[] }>;
}

export interface StandInModule {
  name: string;
  commands: StandInCommand[];
  /** C# classes of the module's cmdlets (namespace ArsJeaStandIn.<module>). */
  csharp: string;
  /** The module's functions, as a .psm1. */
  psm1: string;
}

/** Common parameters are the engine's; WhatIf and Confirm come from SupportsShouldProcess. */
const SHOULD_PROCESS = ['whatif', 'confirm'];

/** .NET types a stand-in can declare as such (short or full names in the inventory); the rest bind as object. */
const KNOWN_TYPES: Readonly<Record<string, { cs: string; ps: string }>> = {
  string: { cs: 'string', ps: 'string' },
  int32: { cs: 'int', ps: 'int' },
  int64: { cs: 'long', ps: 'long' },
  int16: { cs: 'short', ps: 'int16' },
  uint32: { cs: 'uint', ps: 'uint32' },
  uint64: { cs: 'ulong', ps: 'uint64' },
  uint16: { cs: 'ushort', ps: 'uint16' },
  byte: { cs: 'byte', ps: 'byte' },
  boolean: { cs: 'bool', ps: 'bool' },
  char: { cs: 'char', ps: 'char' },
  double: { cs: 'double', ps: 'double' },
  datetime: { cs: 'DateTime', ps: 'datetime' },
  timespan: { cs: 'TimeSpan', ps: 'timespan' },
  guid: { cs: 'Guid', ps: 'guid' },
  'collections.hashtable': { cs: 'System.Collections.Hashtable', ps: 'hashtable' },
  'management.automation.scriptblock': { cs: 'ScriptBlock', ps: 'scriptblock' },
  scriptblock: { cs: 'ScriptBlock', ps: 'scriptblock' },
  'management.automation.switchparameter': { cs: 'SwitchParameter', ps: 'switch' },
  switchparameter: { cs: 'SwitchParameter', ps: 'switch' },
};

interface ParameterType {
  cs: string;
  ps: string;
  isSwitch: boolean;
}

function parameterType(type: string): ParameterType {
  const array = type.endsWith('[]');
  const element = (array ? type.slice(0, -2) : type).replace(/^System\./, '').toLowerCase();
  const known = KNOWN_TYPES[element] ?? { cs: 'object', ps: 'object' };
  const isSwitch = known.cs === 'SwitchParameter';
  if (isSwitch) return { ...known, isSwitch };
  return { cs: array ? `${known.cs}[]` : known.cs, ps: array ? `${known.ps}[]` : known.ps, isSwitch };
}

interface SetAttribute {
  set?: string;
  mandatory: boolean;
  position?: number;
  pipeline: boolean;
}

interface PreparedParameter {
  name: string;
  aliases: string[];
  type: ParameterType;
  attributes: SetAttribute[];
}

interface PreparedCommand {
  name: string;
  verb: string;
  noun: string;
  shouldProcess: boolean;
  defaultSet?: string;
  parameters: PreparedParameter[];
}

/**
 * The inventory entry as PowerShell metadata: set names (the page's, else Set<n>), one attribute per
 * set a parameter is in, positions as documented unless another parameter of the set has it
 * already, aliases that clash with another name dropped (PowerShell refuses such a command).
 * Pipeline input is declared by value and by property name: the inventory does not say which, and
 * a stand-in that binds more is only harder for a role to hold.
 */
function prepare(name: string, command: InventoryCommand): PreparedCommand {
  const [verb = name, noun = ''] = name.split(/-(.*)/s);
  const sets = command.parameterSets.map((_, i) => command.setNames?.[i] ?? `Set${i}`);
  const uniqueSets = sets.map((s, i) => (sets.indexOf(s) === i ? s : `${s}${i}`));
  const taken = uniqueSets.map(() => new Set<number>());
  const seenNames = new Set<string>();
  const entries = Object.entries(command.parameters).filter(([p]) => {
    const lower = p.toLowerCase();
    if (SHOULD_PROCESS.includes(lower) || seenNames.has(lower)) return false;
    seenNames.add(lower);
    return true;
  });
  const usedNames = new Set([...entries.map(([p]) => p.toLowerCase()), 'whatif', 'confirm', 'wi', 'cf']);
  const parameters = entries.map(([parameterName, p]: [string, InventoryParameter]) => {
    const aliases = p.aliases.filter((a) => {
      const lower = a.toLowerCase();
      if (usedNames.has(lower)) return false;
      usedNames.add(lower);
      return true;
    });
    const memberOf = command.parameterSets.flatMap((members, i) =>
      members.some((m) => m.toLowerCase() === parameterName.toLowerCase()) ? [i] : [],
    );
    const attributes: SetAttribute[] =
      memberOf.length === 0
        ? [{ mandatory: false, pipeline: p.pipeline }]
        : memberOf.map((i) => {
            let position: number | undefined;
            if (p.position !== undefined && !taken[i]!.has(p.position)) {
              position = p.position;
              taken[i]!.add(p.position);
            }
            return {
              set: uniqueSets[i],
              mandatory: p.mandatoryIn.includes(i),
              ...(position !== undefined ? { position } : {}),
              pipeline: p.pipeline,
            };
          });
    return { name: parameterName, aliases, type: parameterType(p.type), attributes };
  });
  const shouldProcess = Object.keys(command.parameters).some((p) => SHOULD_PROCESS.includes(p.toLowerCase()));
  const defaultSet = uniqueSets[command.defaultSet ?? 0];
  return { name, verb, noun, shouldProcess, ...(defaultSet !== undefined ? { defaultSet } : {}), parameters };
}

const csString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const psString = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const identifier = (s: string): string => s.replace(/[^A-Za-z0-9_]/g, '_');

function csAttribute(a: SetAttribute): string {
  const parts = [
    ...(a.set !== undefined ? [`ParameterSetName = ${csString(a.set)}`] : []),
    ...(a.mandatory ? ['Mandatory = true'] : []),
    ...(a.position !== undefined ? [`Position = ${a.position}`] : []),
    ...(a.pipeline ? ['ValueFromPipeline = true', 'ValueFromPipelineByPropertyName = true'] : []),
  ];
  return `[Parameter(${parts.join(', ')})]`;
}

function psAttribute(a: SetAttribute): string {
  const parts = [
    ...(a.set !== undefined ? [`ParameterSetName = ${psString(a.set)}`] : []),
    ...(a.mandatory ? ['Mandatory = $true'] : []),
    ...(a.position !== undefined ? [`Position = ${a.position}`] : []),
    ...(a.pipeline ? ['ValueFromPipeline = $true', 'ValueFromPipelineByPropertyName = $true'] : []),
  ];
  return `[Parameter(${parts.join(', ')})]`;
}

function cmdletClass(c: PreparedCommand, index: number): string {
  const options = [
    ...(c.defaultSet !== undefined ? [`DefaultParameterSetName = ${csString(c.defaultSet)}`] : []),
    ...(c.shouldProcess ? ['SupportsShouldProcess = true'] : []),
  ];
  const properties = c.parameters.map((p) =>
    [
      ...p.attributes.map((a) => `        ${csAttribute(a)}`),
      ...(p.aliases.length > 0 ? [`        [Alias(${p.aliases.map(csString).join(', ')})]`] : []),
      `        public ${p.type.cs} @${p.name} { get; set; }`,
    ].join('\n'),
  );
  return [
    `    [Cmdlet(${[csString(c.verb), csString(c.noun), ...options].join(', ')})]`,
    `    public class ${identifier(c.name)}_${index} : PSCmdlet`,
    '    {',
    ...properties,
    `        protected override void ProcessRecord() { global::ArsJeaStandIn.Behavior.Run(this, ${csString(c.name)}); }`,
    '    }',
  ].join('\n');
}

function advancedFunction(c: PreparedCommand): string {
  const binding = [
    ...(c.defaultSet !== undefined ? [`DefaultParameterSetName = ${psString(c.defaultSet)}`] : []),
    ...(c.shouldProcess ? ['SupportsShouldProcess = $true'] : []),
  ];
  const parameters = c.parameters.map((p) =>
    [
      ...p.attributes.map((a) => `        ${psAttribute(a)}`),
      ...(p.aliases.length > 0 ? [`        [Alias(${p.aliases.map(psString).join(', ')})]`] : []),
      `        [${p.type.ps}] $${p.name}`,
    ].join('\n'),
  );
  return [
    `function ${c.name} {`,
    `    [CmdletBinding(${binding.join(', ')})]`,
    '    param(',
    parameters.join(',\n'),
    '    )',
    `    process { [ArsJeaStandIn.Behavior]::Echo(${psString(c.name)}, $PSBoundParameters) }`,
    '}',
  ].join('\n');
}

/**
 * Is a command a cmdlet or a function on Windows? What a role says where it lists the command;
 * otherwise the core modules' commands are cmdlets and the rest (CDXML and script modules) functions.
 */
export function kindOf(inventory: Inventory, module: string, name: string, declared: ReadonlyMap<string, CommandKind>): CommandKind {
  const listed = declared.get(name.toLowerCase());
  if (listed) return listed;
  return inventory.source.moduleSource[module] === 'PowerShell-Docs' ? 'cmdlet' : 'function';
}

/** Stand-in sources for every command of each module. */
export function standInModules(
  inventory: Inventory,
  modules: readonly string[],
  declared: ReadonlyMap<string, CommandKind>,
): StandInModule[] {
  let index = 0;
  return modules.map((module) => {
    const commands = inventory.modules[module];
    if (!commands) throw new Error(`The Server 2016 inventory has no module ${module}`);
    const prepared = Object.entries(commands).map(([name, command]) => ({
      kind: kindOf(inventory, module, name, declared),
      prepared: prepare(name, command),
    }));
    const classes = prepared.filter((c) => c.kind === 'cmdlet').map((c) => cmdletClass(c.prepared, ++index));
    const functions = prepared.filter((c) => c.kind === 'function').map((c) => advancedFunction(c.prepared));
    return {
      name: module,
      commands: prepared.map(({ kind, prepared: c }) => ({
        name: c.name,
        kind,
        parameters: Object.entries(commands[c.name]!.parameters).map(([name, p]) => ({ name, aliases: p.aliases })),
      })),
      csharp:
        classes.length === 0
          ? ''
          : [
              `namespace ArsJeaStandIn.${identifier(module)}`,
              '{',
              '    using System;',
              '    using System.Management.Automation;',
              '',
              classes.join('\n\n'),
              '}',
            ].join('\n'),
      psm1: functions.join('\n\n'),
    };
  });
}
