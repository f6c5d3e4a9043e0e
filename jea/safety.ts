/**
 * Safety rules for role data (jea/roles/*.yaml), checked before any .psrc is written. Each rule
 * returns problems as "<rule>: <what>"; an empty list means the role passes. The rules are the
 * JEA list of DESIGN.md section 4 plus what JEA's own mechanics make necessary (see each rule).
 */
import { PROTECTED_SERVICES } from '../core/node-layout';
import { CommandRule, ParameterRule, RoleDefinition } from './role-model';

/** Commands that give a way out of the role (run code, gain rights, hide tracks). Lower case. */
const NEVER_VISIBLE = new Set([
  // Run arbitrary code or programs.
  'start-process', 'invoke-expression', 'invoke-command', 'invoke-item', 'add-type', 'new-object',
  'invoke-wmimethod', 'invoke-cimmethod', 'set-wmiinstance', 'set-ciminstance', 'new-ciminstance',
  'new-service', 'set-service', 'remove-service', 'suspend-service', 'trace-command',
  'set-psbreakpoint', 'set-psdebug', 'import-module', 'new-alias', 'set-alias',
  'set-executionpolicy', 'invoke-webrequest', 'invoke-restmethod', 'start-bitstransfer',
  // Other sessions and endpoints.
  'enter-pssession', 'enable-psremoting', 'new-pssessionconfigurationfile',
  // Rights and accounts.
  'add-localgroupmember', 'add-adgroupmember', 'new-localuser', 'set-localuser', 'enable-localuser', 'set-acl',
  // Files and the audit trail.
  'new-psdrive', 'new-item', 'set-item', 'copy-item', 'move-item', 'remove-item', 'rename-item',
  'set-content', 'add-content', 'out-file', 'tee-object', 'export-csv', 'export-clixml',
  'new-itemproperty', 'set-itemproperty', 'start-transcript', 'stop-transcript',
]);

/** Families of commands, by name pattern, with the read-only members that stay allowed. */
const NEVER_VISIBLE_FAMILIES: ReadonlyArray<{ pattern: RegExp; except: readonly string[]; label: string }> = [
  { pattern: /-job$/, except: [], label: '*-Job' },
  { pattern: /-(scheduledjob|jobtrigger|scheduledjoboption)$/, except: [], label: 'scheduled jobs' },
  { pattern: /-typedata$/, except: [], label: '*-TypeData' },
  { pattern: /-formatdata$/, except: ['get-formatdata'], label: '*-FormatData' },
  { pattern: /-scheduledtask/, except: ['get-scheduledtask', 'get-scheduledtaskinfo'], label: 'scheduled task changes' },
  { pattern: /-pssession(configuration)?$/, except: [], label: 'PowerShell sessions and endpoints' },
  { pattern: /-(localgroupmember|localuser|localgroup|adgroupmember)$/, except: ['get-localgroupmember', 'get-localuser', 'get-localgroup'], label: 'account and group changes' },
];

/** Programs never visible, by file name without extension. Lower case. */
const NEVER_VISIBLE_PROGRAMS = new Set([
  'net', 'net1', 'cmd', 'powershell', 'powershell_ise', 'pwsh', 'wmic', 'sc', 'schtasks', 'at', 'reg',
  'regedit', 'rundll32', 'mshta', 'wscript', 'cscript', 'certutil', 'bitsadmin', 'msiexec', 'runas',
  'psexec', 'winrm', 'takeown', 'icacls', 'dsadd',
]);

const FORBIDDEN_PROVIDERS = ['filesystem', 'certificate'];

/**
 * Parameters that reach another machine or the file system. The virtual account acts on the
 * network as the computer, so -ComputerName would carry the session's rights elsewhere. Aliases
 * are listed too: JEA adds an unknown parameter name to its proxy, and the real command then binds
 * it by alias (-Cn to -ComputerName). Lower case.
 */
const REACHING_PARAMETERS = new Set([
  'computername', 'cn', 'pscomputername', 'cimsession', 'session', 'pssession', 'credential',
  'asjob', 'throttlelimit', 'path', 'literalpath', 'pspath', 'filepath', 'outfile', 'outputdirectory', 'logpath',
]);
/** Where such a parameter names what to probe, not where to run. */
const REACHING_PARAMETER_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  'test-netconnection': ['computername'],
};

/** Commands that may be visible with all their parameters: reviewed, nothing to restrict. */
const UNRESTRICTED_OK = new Set(['get-date', 'get-timezone']);

/** Verbs that only read, for roles marked readOnly. */
const READ_ONLY_VERBS = new Set(['get', 'test', 'resolve', 'measure', 'select', 'sort', 'where', 'format', 'find', 'compare', 'group']);

/** Service cmdlets that change a service's state: restricted to -Name and a refusing constraint. */
export const SERVICE_CONTROL_COMMANDS = ['start-service', 'stop-service', 'restart-service'];

/**
 * Display names of the protected services (Windows resolves a display name given as -Name to the
 * service), for probing only: a pattern that refuses spaces refuses them anyway.
 */
const PROTECTED_DISPLAY_NAMES = [
  'Windows Remote Management (WS-Management)', 'Task Scheduler', 'Azure Hybrid Instance Metadata Service',
  'Guest Configuration Arc Service', 'Guest Configuration Extension service', 'Azure Arc Proxy',
];

const WILDCARD = /[*?[\]]/;

type Visible = CommandRule & { kind: 'cmdlet' | 'function' };

function visibleCommands(role: RoleDefinition): Visible[] {
  return [
    ...role.visibleCmdlets.map((c) => ({ ...c, kind: 'cmdlet' as const })),
    ...role.visibleFunctions.map((c) => ({ ...c, kind: 'function' as const })),
  ];
}

function neverVisibleReason(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (NEVER_VISIBLE.has(lower)) return `${name} is never visible`;
  const family = NEVER_VISIBLE_FAMILIES.find((f) => f.pattern.test(lower) && !f.except.includes(lower));
  return family ? `${name} is never visible (${family.label})` : undefined;
}

function programName(commandPath: string): string {
  const file = commandPath.split(/[\\/]/).pop() ?? commandPath;
  return file.replace(/\.(exe|com|cmd|bat|ps1|vbs|js|msc)$/i, '').toLowerCase();
}

// ---- rules --------------------------------------------------------------------------------

function neverVisible(role: RoleDefinition): string[] {
  const names = [...visibleCommands(role).map((c) => c.name), ...role.functionDefinitions.map((f) => f.name)];
  const problems = names.flatMap((n) => neverVisibleReason(n) ?? []);
  for (const program of role.visibleExternalCommands) {
    if (NEVER_VISIBLE_PROGRAMS.has(programName(program))) problems.push(`${program} is never visible`);
  }
  return problems.map((p) => `never-visible: ${p}`);
}

function noWildcards(role: RoleDefinition): string[] {
  const names = [
    ...visibleCommands(role).flatMap((c) => [c.name, ...(c.module ? [c.module] : []), ...(c.parameters ?? []).map((p) => p.name)]),
    ...role.functionDefinitions.map((f) => f.name),
    ...role.visibleExternalCommands,
    ...role.visibleProviders,
  ];
  return names.filter((n) => WILDCARD.test(n)).map((n) => `no-wildcards: '${n}' contains a wildcard; name each command exactly`);
}

/** Plain Verb-Noun names: a module-qualified name would make JEA import and expose a module. */
function commandNames(role: RoleDefinition): string[] {
  return [...visibleCommands(role).map((c) => c.name), ...role.functionDefinitions.map((f) => f.name)]
    .filter((n) => !WILDCARD.test(n) && !/^[A-Za-z]+-[A-Za-z0-9]+$/.test(n))
    .map((n) => `command-names: '${n}' is not a plain Verb-Noun command name`);
}

function providers(role: RoleDefinition): string[] {
  return role.visibleProviders
    .filter((p) => FORBIDDEN_PROVIDERS.includes(p.toLowerCase()))
    .map((p) => `providers: the ${p} provider is never visible`);
}

/** Programs by full local path only, so no program of the same name elsewhere on PATH can stand in. */
function externalCommands(role: RoleDefinition): string[] {
  const fullPath = /^[A-Za-z]:\\(?:[^\\/:*?"<>|]+\\)*[^\\/:*?"<>|]+\.exe$/i;
  return role.visibleExternalCommands
    .filter((c) => !fullPath.test(c) || c.split('\\').some((segment) => segment === '..' || segment === '.'))
    .map((c) => `external-commands: '${c}' is not the full local path of an .exe`);
}

function functionDefinitions(role: RoleDefinition): string[] {
  const visible = new Set(role.visibleFunctions.map((f) => f.name.toLowerCase()));
  return role.functionDefinitions
    .filter((f) => !visible.has(f.name.toLowerCase()))
    .map((f) => `function-definitions: ${f.name} is defined but not in VisibleFunctions`);
}

function reachingParameters(role: RoleDefinition): string[] {
  const problems: string[] = [];
  for (const command of visibleCommands(role)) {
    const allowed = REACHING_PARAMETER_EXCEPTIONS[command.name.toLowerCase()] ?? [];
    for (const p of command.parameters ?? []) {
      const lower = p.name.toLowerCase();
      if (REACHING_PARAMETERS.has(lower) && !allowed.includes(lower)) {
        problems.push(`reaching-parameters: ${command.name} -${p.name} reaches another machine or the file system`);
      }
    }
  }
  return problems;
}

function unrestrictedParameters(role: RoleDefinition): string[] {
  const own = new Set(role.functionDefinitions.map((f) => f.name.toLowerCase()));
  return visibleCommands(role)
    .filter((c) => c.parameters === undefined && !UNRESTRICTED_OK.has(c.name.toLowerCase()) && !own.has(c.name.toLowerCase()))
    .map((c) => `unrestricted-parameters: ${c.name} is visible with all its parameters; list the ones needed`);
}

function readOnly(role: RoleDefinition): string[] {
  if (!role.readOnly) return [];
  const problems = visibleCommands(role)
    .filter((c) => !READ_ONLY_VERBS.has((c.name.split('-')[0] ?? '').toLowerCase()))
    .map((c) => `read-only: ${c.name} is not a read-only command`);
  if (role.visibleExternalCommands.length > 0) problems.push('read-only: a read-only role runs no programs');
  if (role.functionDefinitions.length > 0) problems.push('read-only: a read-only role defines no functions (their bodies run in full language)');
  return problems;
}

function serviceControl(role: RoleDefinition): string[] {
  const problems: string[] = [];
  for (const command of visibleCommands(role)) {
    if (!SERVICE_CONTROL_COMMANDS.includes(command.name.toLowerCase())) continue;
    const params = command.parameters;
    const only = params?.length === 1 ? params[0] : undefined;
    if (only === undefined || only.name.toLowerCase() !== 'name') {
      problems.push(`service-control: ${command.name} must allow exactly one parameter, Name`);
      continue;
    }
    const accepted = acceptedServiceNames(only);
    if (accepted === 'unconstrained') problems.push(`service-control: ${command.name} -Name needs a validatePattern or validateSet`);
    else if (typeof accepted === 'string') problems.push(`service-control: ${command.name} -Name: ${accepted}`);
    else if (accepted.length > 0) {
      const shown = accepted.slice(0, 5).map((n) => `'${n}'`).join(', ');
      problems.push(`service-control: ${command.name} -Name accepts ${shown}${accepted.length > 5 ? ` and ${accepted.length - 5} more` : ''}`);
    }
  }
  return problems;
}

export const ROLE_RULES: ReadonlyArray<(role: RoleDefinition) => string[]> = [
  neverVisible, noWildcards, commandNames, providers, externalCommands, functionDefinitions,
  reachingParameters, unrestrictedParameters, readOnly, serviceControl,
];

/** Problems with one role; [] when it is safe to generate. */
export function checkRoleSafety(role: RoleDefinition): string[] {
  return ROLE_RULES.flatMap((rule) => rule(role)).map((p) => `${role.name}: ${p}`);
}

/**
 * Problems with the roles together. JEA merges the roles of a user by loosening: a parameter
 * constrained in one role and free in another is free. So each command may appear in one role only.
 */
export function checkRoleSetSafety(roles: readonly RoleDefinition[]): string[] {
  const problems = roles.flatMap(checkRoleSafety);
  const owner = new Map<string, string>();
  for (const role of roles) {
    for (const command of visibleCommands(role)) {
      const key = command.name.toLowerCase();
      const first = owner.get(key);
      if (first !== undefined && first !== role.name) problems.push(`${role.name}: merge: ${command.name} is also visible in ${first}; JEA would merge them loosely`);
      else owner.set(key, role.name);
    }
  }
  return problems;
}

// ---- testing a constraint -----------------------------------------------------------------

/** Every upper/lower-case spelling of a name (2^letters; service names are short). */
export function caseVariants(name: string): string[] {
  let variants = [''];
  for (const ch of name) {
    const lower = ch.toLowerCase();
    const upper = ch.toUpperCase();
    variants = lower === upper ? variants.map((v) => v + ch) : variants.flatMap((v) => [v + lower, v + upper]);
  }
  return variants;
}

/** Names that must be refused: each protected service in every case, by display name, by wildcard, padded. */
export function protectedServiceProbes(protectedServices: readonly string[] = PROTECTED_SERVICES): string[] {
  const probes = new Set<string>(['*', '?*', '[A-Z]*']);
  for (const name of protectedServices) {
    for (const variant of caseVariants(name)) probes.add(variant);
    probes.add(`${name}*`);
    probes.add(`${name.slice(0, 1)}*`);
    probes.add(`*${name.slice(1)}`);
    probes.add(`${name.slice(0, -1)}?`);
    probes.add(`[${name.slice(0, 1)}]${name.slice(1)}`);
    probes.add(` ${name}`);
    probes.add(`${name} `);
  }
  for (const display of PROTECTED_DISPLAY_NAMES) {
    probes.add(display);
    probes.add(display.toLowerCase());
    probes.add(display.toUpperCase());
  }
  return [...probes];
}

/**
 * The test JEA applies to a value: a ValidateSet member (ignoring case), or a match of
 * ^(pattern)$ (JEA's anchoring, ignoring case). `ignoreCase: false` checks the pattern as written,
 * which is what the session gets whatever the caller's culture does to case folding.
 * Undefined when the parameter is not constrained. Throws on a pattern JavaScript cannot read.
 */
export function compileConstraint(rule: ParameterRule): ((value: string, ignoreCase: boolean) => boolean) | undefined {
  const set = rule.validateSet;
  if (set) {
    const lower = set.map((v) => v.toLowerCase());
    return (value, ignoreCase) => (ignoreCase ? lower.includes(value.toLowerCase()) : set.includes(value));
  }
  if (rule.validatePattern === undefined) return undefined;
  const folded = new RegExp(`^(${rule.validatePattern})$`, 'i');
  const exact = new RegExp(`^(${rule.validatePattern})$`);
  return (value, ignoreCase) => (ignoreCase ? folded : exact).test(value);
}

let defaultProbes: string[] | undefined;

/**
 * The probes a -Name constraint lets through, with or without case folding; a string when the
 * pattern cannot be tested here (JavaScript regexes lack some .NET syntax). The runspace test runs
 * the same probes through .NET's regex against the deployed .psrc.
 */
export function acceptedServiceNames(rule: ParameterRule, probes?: readonly string[]): string[] | string | 'unconstrained' {
  const candidates = probes ?? (defaultProbes ??= protectedServiceProbes());
  let accepts: ReturnType<typeof compileConstraint>;
  try {
    accepts = compileConstraint(rule);
  } catch (error) {
    return `the pattern cannot be tested (${(error as Error).message}); write it in syntax both .NET and JavaScript read`;
  }
  if (accepts === undefined) return 'unconstrained';
  const test = accepts;
  return candidates.filter((p) => test(p, true) || test(p, false));
}
