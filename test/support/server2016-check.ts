/**
 * Checks what our PowerShell uses, what the JEA roles make visible and what the test stand-ins
 * declare against the Server 2016 inventory (test/support/command-inventory.ts). A use that only
 * newer versions have (Server 2019's inventory, or the running pwsh) passes only inside an if
 * clause whose condition checks for it: `Get-Command X` for a command,
 * `(Get-Command X).Parameters.ContainsKey('P')` for a parameter.
 */
import path from 'path';
import { COMMON_PARAMETERS, Command, CommandInventory, Parameter, SHOULD_PROCESS_PARAMETERS, matchParameter } from './command-inventory';
import { CmdletSourceReport, CommandUse, DeclaredParameter, FunctionDeclaration, Guard, RoleReport, ScriptReport } from './powershell-uses';

export interface Finding {
  file: string;
  line: number;
  command: string;
  parameter?: string;
  problem: string;
  /** What Server 2016 offers instead. */
  offers: string;
}

/** A finding that is the inventory's fault (see its `gaps`), not ours. */
export interface AllowedFinding {
  /** The file's name or a path suffix (`scripts/X.ps1`): the repository's copy and the package's both match. */
  file: string;
  command: string;
  parameter?: string;
  reason: string;
}

export interface CheckContext {
  server2016: CommandInventory;
  /** Later releases' inventories (Server 2019). */
  newer: CommandInventory[];
  /** What the running pwsh offers for the commands the scripts call (PowerShellUses.local). */
  local: Record<string, DeclaredParameter[]>;
}

/** Programs (not cmdlets) our scripts may call by bare name; the inventory cannot know them. */
export const NATIVE_PROGRAMS: Readonly<Record<string, string>> = {
  azcmagent: "the Azure Connected Machine agent's program, not a PowerShell command (the inventory's SOURCE.md)",
};

const PROGRAM_FILE = /\.(exe|com|cmd|bat|ps1)$/i;
const MODULE_QUALIFIED = /^[^\\/]+\\[^\\/]+$/;

/** `file:line Command -Parameter: problem. Server 2016 offers: ...`; displayPath shortens the file's path. */
export function formatFinding(finding: Finding, displayPath: (file: string) => string = (file) => file): string {
  const file = displayPath(finding.file);
  const parameter = finding.parameter !== undefined ? ` -${finding.parameter}` : '';
  return `${file}:${finding.line} ${finding.command}${parameter}: ${finding.problem}. Server 2016 offers: ${finding.offers}`;
}

function listNames(parameters: readonly Parameter[]): string {
  const names = parameters.map((p) => p.name);
  return names.length > 0 ? names.map((n) => `-${n}`).join(' ') : 'no parameters';
}

function commandOffers(inventory: CommandInventory, name: string): string {
  const similar = inventory.sameNoun(name);
  return similar.length > 0 ? `no such command; same noun: ${similar.join(', ')}` : 'no such command, nor any with that noun';
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** The command a name calls as each newer source knows it: its parameters (union), or undefined when none has it. */
function newerParameters(context: CheckContext, written: string): Parameter[] | undefined {
  const found: Parameter[] = [];
  let known = false;
  for (const inventory of context.newer) {
    const command = inventory.command(written);
    if (command) {
      known = true;
      found.push(...command.parameters);
    }
  }
  const localKey = Object.keys(context.local).find((key) => sameName(key, written));
  if (localKey !== undefined) {
    known = true;
    found.push(...context.local[localKey]!.map((p) => ({ name: p.name, aliases: p.aliases })));
  }
  if (!known) return undefined;
  // One entry per parameter (the sources overlap), so that a prefix is not taken for ambiguous.
  const merged = new Map<string, Parameter>();
  for (const p of [...found, ...COMMON_PARAMETERS]) {
    const key = p.name.toLowerCase();
    const seen = merged.get(key);
    merged.set(key, { name: seen?.name ?? p.name, aliases: [...new Set([...(seen?.aliases ?? []), ...p.aliases])] });
  }
  return [...merged.values()];
}

/** Whether two names call the same command (through aliases where the inventory knows them). */
function sameCommand(context: CheckContext, a: string, b: string): boolean {
  const resolve = (n: string): string => context.server2016.command(n)?.name ?? n.split('\\').pop()!;
  return sameName(resolve(a), resolve(b));
}

function guardsFor(context: CheckContext, guards: Guard[], command: string): Guard[] {
  return guards.filter((g) => sameCommand(context, g.command, command));
}

function guardedParameter(context: CheckContext, use: CommandUse, command: string, written: string): { guarded: boolean; newer: boolean } {
  const newer = newerParameters(context, command);
  const target = newer ? matchParameter(newer, written) : undefined;
  if (!newer || !target || target.kind !== 'match') return { guarded: false, newer: false };
  const guarded = guardsFor(context, use.guards, command).some((g) => {
    if (g.parameter === null) return false;
    const checked = matchParameter(newer, g.parameter);
    return checked.kind === 'match' && checked.exact && checked.parameter.name === target.parameter.name;
  });
  return { guarded, newer: true };
}

/** ownFunction: a call to one of our functions, which no newer version changes. */
function checkParameters(
  context: CheckContext,
  file: string,
  use: CommandUse,
  command: string,
  bindable: readonly Parameter[],
  offered: readonly Parameter[],
  ownFunction = false,
): Finding[] {
  const findings: Finding[] = [];
  for (const written of use.parameters) {
    const match = matchParameter(bindable, written.name);
    if (match.kind === 'match') continue;
    const base = { file, line: written.line, command, parameter: written.name, offers: listNames(offered) };
    const how = written.splat ? ' (a key of the hashtable splatted into the call)' : '';
    if (match.kind === 'ambiguous') {
      findings.push({
        ...base,
        problem: `ambiguous parameter prefix${how}: it matches ${match.candidates.map((c) => `-${c}`).join(', ')}`,
      });
      continue;
    }
    const { guarded, newer } = ownFunction ? { guarded: false, newer: false } : guardedParameter(context, use, command, written.name);
    if (guarded) continue;
    findings.push({
      ...base,
      problem: newer
        ? `parameter only in newer versions${how}, used without a capability check: wrap it in if ((Get-Command ${command}).Parameters.ContainsKey('${written.name}'))`
        : `no such parameter${how}`,
    });
  }
  return findings;
}

/** The parameters a call to one of our own functions can bind. */
function functionBindable(declaration: FunctionDeclaration): Parameter[] {
  const own = declaration.parameters.map((p) => ({ name: p.name, aliases: p.aliases }));
  if (!declaration.advanced) return own;
  return [...own, ...COMMON_PARAMETERS, ...(declaration.shouldProcess ? SHOULD_PROCESS_PARAMETERS : [])];
}

/**
 * Check 1 and 4: every command our node scripts call exists on Server 2016 with every named
 * parameter written, or is a newer one behind a capability check. Calls to functions the scripts
 * define are checked against those functions' own param() blocks.
 */
export function checkScripts(scripts: readonly ScriptReport[], context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  const ourModules = new Set(
    scripts.filter((s) => /\.psm1$/i.test(s.file)).map((s) => path.basename(s.file, path.extname(s.file)).toLowerCase()),
  );
  const definitions = new Map<string, Array<{ file: string; declaration: FunctionDeclaration }>>();
  for (const script of scripts) {
    for (const declaration of script.functions) {
      const key = declaration.name.toLowerCase();
      definitions.set(key, [...(definitions.get(key) ?? []), { file: script.file, declaration }]);
    }
  }
  for (const script of scripts) {
    for (const error of script.parseErrors)
      findings.push({ file: script.file, line: Number(error.split(':')[0]), command: '(parse)', problem: error, offers: 'n/a' });
    for (const use of script.uses) {
      const name = use.command;
      if (name === null || name === '') continue;
      const qualified = MODULE_QUALIFIED.test(name);
      if (!qualified && (/[\\/]/.test(name) || PROGRAM_FILE.test(name))) continue;
      if (NATIVE_PROGRAMS[name.toLowerCase()] !== undefined) continue;

      // One of our functions: by plain name (it shadows a cmdlet of that name), or qualified with our module.
      const [qualifier, bare] = qualified ? (name.split('\\') as [string, string]) : [undefined, name];
      const ours = qualifier === undefined || ourModules.has(qualifier.toLowerCase()) ? definitions.get(bare.toLowerCase()) : undefined;
      if (ours) {
        const sameFile = ours.filter((d) => d.file === script.file);
        const candidates = sameFile.length > 0 ? sameFile : ours;
        if (candidates.some((d) => d.declaration.dynamicParameters)) continue;
        const perDefinition = candidates.map((d) =>
          checkParameters(context, script.file, use, name, functionBindable(d.declaration), d.declaration.parameters, true),
        );
        // A call is fine when one of the definitions it may reach takes every parameter written.
        if (!perDefinition.some((f) => f.length === 0)) {
          findings.push(
            ...perDefinition[0]!.map((f) => ({
              ...f,
              offers: `our function ${f.offers}`,
              problem: `${f.problem} (our function, defined at ${path.basename(candidates[0]!.file)}:${candidates[0]!.declaration.line})`,
            })),
          );
        }
        continue;
      }

      const command: Command | undefined = context.server2016.command(name);
      if (command) {
        findings.push(...checkParameters(context, script.file, use, name, context.server2016.bindable(command), command.parameters));
        continue;
      }
      const newer = newerParameters(context, name);
      const guarded = guardsFor(context, use.guards, name).some((g) => g.parameter === null);
      if (newer && guarded) {
        findings.push(
          ...checkParameters(context, script.file, use, name, newer, newer).map((f) => ({
            ...f,
            problem: `${f.problem} (not in any version known)`,
          })),
        );
        continue;
      }
      findings.push({
        file: script.file,
        line: use.line,
        command: name,
        problem: newer
          ? `command only in newer versions, used without a capability check: wrap it in if (Get-Command ${name} -ErrorAction SilentlyContinue)`
          : qualified
            ? 'no such command in that module'
            : 'no such command',
        offers: commandOffers(context.server2016, name),
      });
    }
  }
  return findings;
}

/** Check 2: the modules a role imports, and every command and parameter it makes visible, exist on Server 2016. */
export function checkRoles(roles: readonly RoleReport[], context: CheckContext): Finding[] {
  const inventory = context.server2016;
  const findings: Finding[] = [];
  for (const role of roles) {
    for (const error of role.parseErrors)
      findings.push({ file: role.file, line: Number(error.split(':')[0]), command: '(parse)', problem: error, offers: 'n/a' });
    for (const module of role.modulesToImport) {
      if (!inventory.module(module.name)) {
        findings.push({
          file: role.file,
          line: module.line,
          command: module.name,
          problem: 'ModulesToImport names no module of Server 2016',
          offers: 'the modules of the inventory',
        });
      }
    }
    for (const entry of role.entries) {
      const base = { file: role.file, line: entry.line, command: entry.command };
      // A function the file defines is ours: its param block is the constraint (the script check reads its body).
      if (entry.kind === 'VisibleFunctions' && role.ownFunctions.some((name) => sameName(name, entry.command))) continue;
      if (/[*?]/.test(entry.command)) {
        if (inventory.matching(entry.command).length === 0)
          findings.push({ ...base, problem: `${entry.kind} pattern matches no command`, offers: commandOffers(inventory, entry.command) });
        continue;
      }
      const command = inventory.command(entry.command);
      // JEA looks a visible command up by its name; an alias makes nothing visible.
      if (!command || !sameName(command.name, entry.command.split('\\').pop()!)) {
        findings.push({
          ...base,
          problem: `${entry.kind} names no command`,
          offers: command ? `${command.name} (the name is an alias)` : commandOffers(inventory, entry.command),
        });
        continue;
      }
      for (const parameter of entry.parameters ?? []) {
        const pBase = { ...base, line: parameter.line, parameter: parameter.name, offers: listNames(command.parameters) };
        const real = [...command.parameters, ...COMMON_PARAMETERS].find((p) => sameName(p.name, parameter.name));
        if (!real) {
          const viaAlias = matchParameter(command.parameters, parameter.name);
          findings.push({
            ...pBase,
            problem:
              viaAlias.kind === 'match' && viaAlias.exact
                ? `an alias of -${viaAlias.parameter.name}: a role must name the parameter itself`
                : 'the role makes visible a parameter the command does not have',
          });
          continue;
        }
        const accepted = real.values;
        if (parameter.validateSet && accepted) {
          const refused = parameter.validateSet.filter((v) => !accepted.some((a) => sameName(a, v)));
          if (refused.length > 0) {
            findings.push({
              ...pBase,
              problem: `ValidateSet has values the command does not accept: ${refused.join(', ')}`,
              offers: `accepted values ${accepted.join(', ')}`,
            });
          }
        }
      }
    }
  }
  return findings;
}

export interface StandInDeclaration {
  file: string;
  command: string;
  line: number;
  parameters: DeclaredParameter[];
}

/** The stand-ins among a test file's functions and compiled cmdlets: those named like a Server 2016 command (the rest are helpers). */
export function standInsOf(
  scripts: readonly ScriptReport[],
  cmdlets: readonly CmdletSourceReport[],
  context: CheckContext,
): StandInDeclaration[] {
  const fromScripts = scripts.flatMap((s) =>
    s.functions
      .filter((f) => sameName(context.server2016.command(f.name)?.name ?? '', f.name))
      .map((f) => ({ file: s.file, command: f.name, line: f.line, parameters: f.parameters })),
  );
  const fromCmdlets = cmdlets.map((c) => ({ file: c.file, command: c.command, line: c.line, parameters: c.parameters }));
  return [...fromScripts, ...fromCmdlets];
}

/**
 * Check 3: every parameter a stand-in declares is a parameter of that command on Server 2016, by
 * its real name, and every alias it declares is an alias of that same parameter.
 */
export function checkStandIns(standIns: readonly StandInDeclaration[], context: CheckContext): Finding[] {
  const findings: Finding[] = [];
  for (const standIn of standIns) {
    const command = context.server2016.command(standIn.command);
    if (!command) {
      findings.push({
        file: standIn.file,
        line: standIn.line,
        command: standIn.command,
        problem: 'stands in for a command Server 2016 does not have',
        offers: commandOffers(context.server2016, standIn.command),
      });
      continue;
    }
    const real = [...command.parameters, ...COMMON_PARAMETERS];
    for (const declared of standIn.parameters) {
      const base = {
        file: standIn.file,
        line: declared.line ?? standIn.line,
        command: command.name,
        parameter: declared.name,
        offers: listNames(command.parameters),
      };
      const parameter = real.find((p) => sameName(p.name, declared.name));
      if (!parameter) {
        const viaAlias = matchParameter(command.parameters, declared.name);
        findings.push({
          ...base,
          problem:
            viaAlias.kind === 'match' && viaAlias.exact
              ? `declared under an alias of -${viaAlias.parameter.name}: declare the real name with [Alias()]`
              : 'the stand-in declares a parameter the command does not have',
        });
        continue;
      }
      for (const alias of declared.aliases) {
        if (!parameter.aliases.some((a) => sameName(a, alias))) {
          findings.push({
            ...base,
            problem: `declares alias '${alias}', which Server 2016 does not have for this parameter`,
            offers: `aliases of -${parameter.name}: ${parameter.aliases.join(', ') || 'none'}`,
          });
        }
      }
    }
  }
  return findings;
}

function allows(entry: AllowedFinding, finding: Finding): boolean {
  const file = finding.file.split(path.sep).join('/');
  return (
    (file === entry.file || file.endsWith(`/${entry.file}`)) &&
    sameName(entry.command, finding.command) &&
    (entry.parameter === undefined
      ? finding.parameter === undefined
      : finding.parameter !== undefined && sameName(entry.parameter, finding.parameter))
  );
}

/** Splits findings into those the allow list excuses and the rest; also returns allow entries nothing needed. */
export function applyAllowList(
  findings: readonly Finding[],
  allowList: readonly AllowedFinding[],
): { remaining: Finding[]; unused: AllowedFinding[] } {
  return {
    remaining: findings.filter((f) => !allowList.some((entry) => allows(entry, f))),
    unused: allowList.filter((entry) => !findings.some((f) => allows(entry, f))),
  };
}
