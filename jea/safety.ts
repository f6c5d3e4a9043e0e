/**
 * Safety rules for role data (jea/roles/*.yaml), checked before any .psrc is written. Each rule
 * returns problems as "<rule>: <what>"; an empty list means the role passes. The rules are the
 * JEA list of DESIGN.md section 4 plus what JEA's own mechanics make necessary (see each rule).
 */
import { ENGINEER_AGENT_COMMANDS, REQUESTED_BY_FLAG, agentVariable, functionCalls } from './agent-call';
import { CommandRule, RoleDefinition } from './role-model';
import { acceptedServiceNames, compileConstraint } from './service-names';

/** Commands that give a way out of the role (run code, gain rights, hide tracks). Lower case. */
const NEVER_VISIBLE = new Set([
  // Run arbitrary code or programs.
  'start-process',
  'invoke-expression',
  'invoke-command',
  'invoke-item',
  'add-type',
  'new-object',
  'invoke-wmimethod',
  'invoke-cimmethod',
  'set-wmiinstance',
  'set-ciminstance',
  'new-ciminstance',
  'new-service',
  'set-service',
  'remove-service',
  'suspend-service',
  'trace-command',
  'set-psbreakpoint',
  'set-psdebug',
  'import-module',
  'new-alias',
  'set-alias',
  'set-executionpolicy',
  'invoke-webrequest',
  'invoke-restmethod',
  'start-bitstransfer',
  // Other sessions and endpoints.
  'enter-pssession',
  'enable-psremoting',
  'new-pssessionconfigurationfile',
  // Rights and accounts.
  'add-localgroupmember',
  'add-adgroupmember',
  'new-localuser',
  'set-localuser',
  'enable-localuser',
  'set-acl',
  // Files and the audit trail.
  'new-psdrive',
  'new-item',
  'set-item',
  'copy-item',
  'move-item',
  'remove-item',
  'rename-item',
  'set-content',
  'add-content',
  'out-file',
  'tee-object',
  'export-csv',
  'export-clixml',
  'new-itemproperty',
  'set-itemproperty',
  'start-transcript',
  'stop-transcript',
]);

/** Families of commands, by name pattern, with the read-only members that stay allowed. */
const NEVER_VISIBLE_FAMILIES: ReadonlyArray<{ pattern: RegExp; except: readonly string[]; label: string }> = [
  { pattern: /-job$/, except: [], label: '*-Job' },
  { pattern: /-(scheduledjob|jobtrigger|scheduledjoboption)$/, except: [], label: 'scheduled jobs' },
  { pattern: /-typedata$/, except: [], label: '*-TypeData' },
  { pattern: /-formatdata$/, except: ['get-formatdata'], label: '*-FormatData' },
  { pattern: /-scheduledtask/, except: ['get-scheduledtask', 'get-scheduledtaskinfo'], label: 'scheduled task changes' },
  { pattern: /-pssession(configuration)?$/, except: [], label: 'PowerShell sessions and endpoints' },
  {
    pattern: /-(localgroupmember|localuser|localgroup|adgroupmember)$/,
    except: ['get-localgroupmember', 'get-localuser', 'get-localgroup'],
    label: 'account and group changes',
  },
];

/** Programs never visible, by file name without extension. Lower case. */
const NEVER_VISIBLE_PROGRAMS = new Set([
  'net',
  'net1',
  'cmd',
  'powershell',
  'powershell_ise',
  'pwsh',
  'wmic',
  'sc',
  'schtasks',
  'at',
  'reg',
  'regedit',
  'rundll32',
  'mshta',
  'wscript',
  'cscript',
  'certutil',
  'bitsadmin',
  'msiexec',
  'runas',
  'psexec',
  'winrm',
  'takeown',
  'icacls',
  'dsadd',
]);

const FORBIDDEN_PROVIDERS = ['filesystem', 'certificate'];

/**
 * Parameters that reach another machine or the file system. The virtual account acts on the
 * network as the computer, so -ComputerName would carry the session's rights elsewhere. Aliases
 * are listed too: JEA adds an unknown parameter name to its proxy, and the real command then binds
 * it by alias (-Cn to -ComputerName). Lower case.
 */
const REACHING_PARAMETERS = new Set([
  'computername',
  'cn',
  'pscomputername',
  'cimsession',
  'session',
  'pssession',
  'credential',
  'asjob',
  'throttlelimit',
  'path',
  'literalpath',
  'pspath',
  'filepath',
  'outfile',
  'outputdirectory',
  'logpath',
]);
/** Where such a parameter names what to probe, not where to run. */
const REACHING_PARAMETER_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  'test-netconnection': ['computername'],
};

/** Verbs that only read, for roles marked readOnly. */
const READ_ONLY_VERBS = new Set(['get', 'test', 'resolve', 'measure', 'select', 'sort', 'where', 'format', 'find', 'compare', 'group']);

/**
 * Commands a read-only role's own functions may call although their verb is not a reading one:
 * each changes nothing on the machine (it writes to the caller's error stream, parses text, or
 * turns a path into the file system's).
 */
const PURE_CALLS = new Set([
  'microsoft.powershell.utility\\write-error',
  'microsoft.powershell.utility\\convertfrom-json',
  'microsoft.powershell.management\\convert-path',
]);

/** Service cmdlets that change a service's state: restricted to -Name and a refusing constraint. */
export const SERVICE_CONTROL_COMMANDS = ['start-service', 'stop-service', 'restart-service'];

const WILDCARD = /[*?[\]]/;

/**
 * Parameters that carry the pipeline's objects into commands that only compare, sort or format
 * them: no value of theirs names anything to read. Every other parameter needs a constraint.
 */
const PIPELINE_OBJECT_PARAMETERS: Readonly<Record<string, readonly string[]>> = {
  'where-object': ['inputobject', 'value'],
  'sort-object': ['inputobject'],
  'format-list': ['inputobject'],
  'format-table': ['inputobject'],
};

/**
 * Values that reach outside any role's set whatever the parameter: another machine, a file, a
 * structured event query naming its own log (or closing one <Select> to open another), a second
 * line. No constrained parameter may accept one.
 */
export const ESCAPE_PROBES: readonly string[] = [
  '\\\\otherhost\\c$\\Windows',
  '//otherhost/share',
  'C:\\Windows\\System32\\config\\SAM',
  'file:///C:/Windows/System32/winevt/Logs/Security.evtx',
  '<QueryList><Query Id="0"><Select Path="Security">*</Select></Query></QueryList>',
  "*</Select><Select Path='Security'>*",
  'System\nSecurity',
];

/**
 * Cmdlets that read everything when a selector is left out: Get-WinEvent without -LogName reads
 * every log, Security included. JEA cannot make a parameter mandatory, so such a cmdlet is never
 * visible itself; a function of our own with the selector mandatory stands in for it.
 */
const ALL_BY_DEFAULT: Readonly<Record<string, string>> = { 'get-winevent': 'LogName' };

/** A visible command: a listed cmdlet or function, or a function of our own (its parameters are its own). */
type Visible = CommandRule & { kind: 'cmdlet' | 'function' | 'own' };

function visibleCommands(role: RoleDefinition): Visible[] {
  return [
    ...role.visibleCmdlets.map((c) => ({ ...c, kind: 'cmdlet' as const })),
    ...role.visibleFunctions.map((c) => ({ ...c, kind: 'function' as const })),
    ...role.functionDefinitions.map((f) => ({ name: f.name, parameters: f.parameters, kind: 'own' as const })),
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

const verbOf = (name: string): string => (name.split('\\').pop() ?? name).split('-')[0]?.toLowerCase() ?? '';

// ---- rules --------------------------------------------------------------------------------

function neverVisible(role: RoleDefinition): string[] {
  const problems = visibleCommands(role).flatMap((c) => neverVisibleReason(c.name) ?? []);
  for (const program of role.visibleExternalCommands) {
    if (NEVER_VISIBLE_PROGRAMS.has(programName(program))) problems.push(`${program} is never visible`);
  }
  return problems.map((p) => `never-visible: ${p}`);
}

function noWildcards(role: RoleDefinition): string[] {
  const names = [
    ...visibleCommands(role).flatMap((c) => [c.name, ...(c.module ? [c.module] : []), ...(c.parameters ?? []).map((p) => p.name)]),
    ...role.functionDefinitions.flatMap((f) => f.calls),
    ...role.visibleExternalCommands,
    ...role.visibleProviders,
  ];
  return names.filter((n) => WILDCARD.test(n)).map((n) => `no-wildcards: '${n}' contains a wildcard; name each command exactly`);
}

/** Plain Verb-Noun names: a module-qualified name would make JEA import and expose a module. */
function commandNames(role: RoleDefinition): string[] {
  return visibleCommands(role)
    .map((c) => c.name)
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

/**
 * A function of our own is visible by construction, so it is not listed again; what its body runs
 * is declared module-qualified (the private command itself, never a visible name that a role could
 * replace), and is never a command no role may show.
 */
function functionDefinitions(role: RoleDefinition): string[] {
  const listed = new Set([...role.visibleCmdlets, ...role.visibleFunctions].map((c) => c.name.toLowerCase()));
  const problems: string[] = [];
  for (const f of role.functionDefinitions) {
    if (listed.has(f.name.toLowerCase())) problems.push(`${f.name} is defined here and also listed as a visible command; define it only`);
    for (const call of functionCalls(f)) {
      if (!/^[A-Za-z][A-Za-z0-9.]*\\[A-Za-z]+-[A-Za-z0-9]+$/.test(call))
        problems.push(`${f.name} calls '${call}', which is not a module-qualified Module\\Verb-Noun`);
      const reason = neverVisibleReason(call.split('\\').pop() ?? call);
      if (reason !== undefined) problems.push(`${f.name} calls ${call}: ${reason}`);
    }
  }
  return problems.map((p) => `function-definitions: ${p}`);
}

/**
 * A function of our own runs a program only one way: the node agent, through the call the
 * generator writes from `agent:` (jea/agent-call.ts), with a subcommand and flags from
 * ENGINEER_AGENT_COMMANDS, each value a local the body set from the function's parameters, which
 * must all be constrained (so no free text reaches the agent), and the connected user for
 * --requested-by. Its own statements hold no call operator and name no program.
 */
function agentCalls(role: RoleDefinition): string[] {
  const problems: string[] = [];
  for (const f of role.functionDefinitions) {
    const text = `${f.body}\n${f.answer ?? ''}`;
    if (text.includes('&')) problems.push(`${f.name}'s statements hold '&': a function runs programs only through agent:`);
    const program = /[A-Za-z0-9_-]+\.(exe|com|cmd|bat|ps1|psm1|js|vbs|msc)\b/i.exec(text);
    if (program) problems.push(`${f.name}'s statements name the program ${program[0]}: a function runs programs only through agent:`);
    if (!f.agent) continue;
    const allowed = ENGINEER_AGENT_COMMANDS[f.agent.subcommand];
    if (!allowed) {
      problems.push(
        `${f.name} runs the agent's '${f.agent.subcommand}', which no role may run (allowed: ${Object.keys(ENGINEER_AGENT_COMMANDS).join(', ')})`,
      );
      continue;
    }
    if (role.readOnly && !allowed.readOnlyRoles)
      problems.push(`${f.name} runs the agent's '${f.agent.subcommand}', which a read-only role may not`);
    for (const flag of f.agent.arguments.filter((a) => !allowed.flags.includes(a)))
      problems.push(`${f.name} passes ${flag} to '${f.agent.subcommand}', which takes only ${allowed.flags.join(', ')}`);
    if (new Set(f.agent.arguments).size !== f.agent.arguments.length) problems.push(`${f.name} passes a flag twice`);
    for (const p of f.parameters.filter((x) => x.type !== 'switch' && !x.validateSet && x.validatePattern === undefined))
      problems.push(`${f.name} -${p.name} takes free text, and the function runs the agent; give it a validateSet or validatePattern`);
    for (const flag of f.agent.arguments.filter((a) => a !== REQUESTED_BY_FLAG && allowed.flags.includes(a) && a !== '--json')) {
      if (!new RegExp(`\\$${agentVariable(flag)}\\s*=`, 'i').test(f.body))
        problems.push(`${f.name} passes ${flag} but its body never sets $${agentVariable(flag)}`);
    }
    if (new RegExp(`\\$${agentVariable(REQUESTED_BY_FLAG)}\\b`, 'i').test(text))
      problems.push(
        `${f.name}'s statements touch $${agentVariable(REQUESTED_BY_FLAG)}: only the generated call sets it, from the connected user`,
      );
  }
  return problems.map((p) => `agent-calls: ${p}`);
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
  return visibleCommands(role)
    .filter((c) => c.parameters === undefined)
    .map((c) => `unrestricted-parameters: ${c.name} is visible with all its parameters; list the ones needed, each constrained`);
}

/**
 * Every parameter of every visible command is constrained: a validateSet or validatePattern that
 * refuses every escape probe, or a switch (no value), or a reviewed pipeline-object parameter.
 * A free text parameter is how a value reaches outside the role's set (-FilterXPath took a
 * <QueryList> naming the Security log).
 */
function constrainedParameters(role: RoleDefinition): string[] {
  const problems: string[] = [];
  for (const command of visibleCommands(role)) {
    const pipelineObjects = PIPELINE_OBJECT_PARAMETERS[command.name.toLowerCase()] ?? [];
    for (const p of command.parameters ?? []) {
      if (p.switch === true || pipelineObjects.includes(p.name.toLowerCase())) continue;
      let accepts: ReturnType<typeof compileConstraint>;
      try {
        accepts = compileConstraint(p);
      } catch (error) {
        problems.push(
          `${command.name} -${p.name}: the pattern cannot be tested (${(error as Error).message}); write it in syntax both .NET and JavaScript read`,
        );
        continue;
      }
      if (accepts === undefined) {
        problems.push(
          `${command.name} -${p.name} takes any value; give it a validateSet or validatePattern, mark it switch: true if it takes none, or leave it out`,
        );
        continue;
      }
      const test = accepts;
      const escapes = ESCAPE_PROBES.filter((probe) => test(probe, true) || test(probe, false));
      if (escapes.length > 0) problems.push(`${command.name} -${p.name} accepts ${escapes.map((e) => JSON.stringify(e)).join(', ')}`);
    }
  }
  return problems.map((p) => `constrained-parameters: ${p}`);
}

function mandatorySelectors(role: RoleDefinition): string[] {
  const problems: string[] = [];
  for (const command of visibleCommands(role)) {
    const selector = ALL_BY_DEFAULT[command.name.toLowerCase()];
    if (selector === undefined) continue;
    if (command.kind !== 'own') {
      problems.push(
        `${command.name} reads everything without -${selector}, and JEA cannot make it mandatory; define a function of our own with a mandatory -${selector}`,
      );
      continue;
    }
    const own = role.functionDefinitions.find((f) => f.name.toLowerCase() === command.name.toLowerCase());
    const parameter = own?.parameters.find((p) => p.name.toLowerCase() === selector.toLowerCase());
    if (!parameter?.mandatory) problems.push(`${command.name} must have a mandatory -${selector}`);
  }
  return problems.map((p) => `mandatory-selectors: ${p}`);
}

function readOnly(role: RoleDefinition): string[] {
  if (!role.readOnly) return [];
  // A function that runs an agent command allowed to read-only roles is judged by that command.
  const agentAllowed = new Set(
    role.functionDefinitions
      .filter((f) => f.agent && ENGINEER_AGENT_COMMANDS[f.agent.subcommand]?.readOnlyRoles === true)
      .map((f) => f.name.toLowerCase()),
  );
  const problems = visibleCommands(role)
    .filter((c) => !READ_ONLY_VERBS.has(verbOf(c.name)) && !(c.kind === 'own' && agentAllowed.has(c.name.toLowerCase())))
    .map((c) => `read-only: ${c.name} is not a read-only command`);
  for (const f of role.functionDefinitions) {
    for (const call of functionCalls(f).filter((c) => !READ_ONLY_VERBS.has(verbOf(c)) && !PURE_CALLS.has(c.toLowerCase())))
      problems.push(`read-only: ${f.name} calls ${call}, which is not a read-only command`);
  }
  if (role.visibleExternalCommands.length > 0) problems.push('read-only: a read-only role runs no programs');
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
      const shown = accepted
        .slice(0, 5)
        .map((n) => `'${n}'`)
        .join(', ');
      problems.push(
        `service-control: ${command.name} -Name accepts ${shown}${accepted.length > 5 ? ` and ${accepted.length - 5} more` : ''}`,
      );
    }
  }
  return problems;
}

export const ROLE_RULES: ReadonlyArray<(role: RoleDefinition) => string[]> = [
  neverVisible,
  noWildcards,
  commandNames,
  providers,
  externalCommands,
  functionDefinitions,
  agentCalls,
  reachingParameters,
  unrestrictedParameters,
  constrainedParameters,
  mandatorySelectors,
  readOnly,
  serviceControl,
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
      if (first !== undefined && first !== role.name)
        problems.push(`${role.name}: merge: ${command.name} is also visible in ${first}; JEA would merge them loosely`);
      else owner.set(key, role.name);
    }
  }
  return problems;
}
