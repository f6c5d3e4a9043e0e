/**
 * What a simulated JEA session lets a user run, from the GENERATED roles (jea/generate.ts): the
 * commands the user's roles make visible and each one's allowed parameters with their
 * ValidateSet / ValidatePattern, merged across roles as JEA merges them (a command every role
 * lists with all parameters allows all; otherwise the union of parameters; a value passes when any
 * role's constraint for that parameter takes it). Refusals use JEA's / PowerShell's wording.
 */
import { GROUPS } from '../../core/node-layout';
import type { ParameterRule, RoleDefinition } from '../../jea/role-model';

/** What a RestrictedRemoteServer session shows whatever the roles. */
const SESSION_DEFAULT_COMMANDS = [
  'Clear-Host',
  'Exit-PSSession',
  'Get-Command',
  'Get-FormatData',
  'Get-Help',
  'Measure-Object',
  'Out-Default',
  'Select-Object',
];

/** The engine's own parameters, allowed on every command. */
const COMMON_PARAMETERS = [
  'Verbose',
  'Debug',
  'ErrorAction',
  'WarningAction',
  'InformationAction',
  'ErrorVariable',
  'WarningVariable',
  'InformationVariable',
  'OutVariable',
  'OutBuffer',
  'PipelineVariable',
];

export interface VisibleCommand {
  name: string;
  kind: 'Cmdlet' | 'Function';
  /** Null: every parameter; otherwise the allowed ones by lower-case name, each with its constraints (one per role). */
  parameters: Map<string, { name: string; rules: ParameterRule[] }> | null;
}

/** The roles of a principal by its groups (names without the computer): Diagnostics, plus Repair for the Repair group. */
export function rolesOfGroups(groups: readonly string[], roles: readonly RoleDefinition[]): RoleDefinition[] {
  const has = (group: string) => groups.some((one) => one.toLowerCase() === group.toLowerCase());
  const names = has(GROUPS.repair) ? ['Diagnostics', 'Repair'] : has(GROUPS.diagnostics) ? ['Diagnostics'] : [];
  return roles.filter((role) => names.includes(role.name));
}

export function visibleCommands(roles: readonly RoleDefinition[]): Map<string, VisibleCommand> {
  const visible = new Map<string, VisibleCommand>();
  for (const name of SESSION_DEFAULT_COMMANDS) visible.set(name.toLowerCase(), { name, kind: 'Function', parameters: null });
  const add = (name: string, kind: VisibleCommand['kind'], parameters: ParameterRule[] | undefined) => {
    const key = name.toLowerCase();
    const existing = visible.get(key);
    if (existing && existing.parameters === null) return;
    if (parameters === undefined) {
      visible.set(key, { name, kind, parameters: null });
      return;
    }
    const merged = existing?.parameters ?? new Map<string, { name: string; rules: ParameterRule[] }>();
    for (const parameter of parameters) {
      const entry = merged.get(parameter.name.toLowerCase()) ?? { name: parameter.name, rules: [] };
      entry.rules.push(parameter);
      merged.set(parameter.name.toLowerCase(), entry);
    }
    visible.set(key, { name, kind, parameters: merged });
  };
  for (const role of roles) {
    for (const command of role.visibleCmdlets) add(command.name, 'Cmdlet', command.parameters);
    for (const command of role.visibleFunctions) add(command.name, 'Function', command.parameters);
    // Our own functions: their parameters are the definition's, each as constrained there.
    for (const f of role.functionDefinitions) add(f.name, 'Function', f.parameters);
  }
  return visible;
}

export function notRecognized(name: string): string {
  return `The term '${name}' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.`;
}

/** The parameter a typed name binds to (exact, else an unambiguous prefix), or an error in PowerShell's words. */
export function bindParameterName(
  command: VisibleCommand,
  typed: string,
): { name: string; rules: ParameterRule[] | null } | { error: string } {
  const candidates: Array<{ name: string; rules: ParameterRule[] | null }> = [
    ...(command.parameters ? [...command.parameters.values()] : []),
    ...COMMON_PARAMETERS.map((name) => ({ name, rules: null })),
  ];
  const lower = typed.toLowerCase();
  const exact = candidates.find((candidate) => candidate.name.toLowerCase() === lower);
  if (exact) return exact;
  if (command.parameters === null) return { name: typed, rules: null };
  const prefixed = candidates.filter((candidate) => candidate.name.toLowerCase().startsWith(lower));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) {
    return {
      error: `Parameter cannot be processed because the parameter name '${typed}' is ambiguous. Possible matches include: ${prefixed.map((p) => `-${p.name}`).join(' ')}.`,
    };
  }
  return { error: `A parameter cannot be found that matches parameter name '${typed}'.` };
}

/** Null when `value` passes any of the rules (a rule without constraint passes all); else the validation error. */
export function validateValue(parameter: string, rules: readonly ParameterRule[], value: string): string | null {
  let error: string | null = null;
  for (const rule of rules) {
    if (rule.validateSet) {
      if (rule.validateSet.some((allowed) => allowed.toLowerCase() === value.toLowerCase())) return null;
      error ??= `Cannot validate argument on parameter '${parameter}'. The argument "${value}" does not belong to the set "${rule.validateSet.join(',')}" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.`;
    } else if (rule.validatePattern !== undefined) {
      const anchored = `^(${rule.validatePattern})$`;
      if (new RegExp(anchored, 'i').test(value)) return null;
      error ??= `Cannot validate argument on parameter '${parameter}'. The argument "${value}" does not match the "${anchored}" pattern. Supply an argument that matches "${anchored}" and try the command again.`;
    } else {
      return null;
    }
  }
  return error;
}
