/**
 * Role data (jea/roles/*.yaml) -> the files of the JEA module ArcRemoteSupportJea: its manifest and
 * one role capability file per role. The roles must pass jea/safety.ts first; nothing unsafe is
 * ever written. Output is deterministic (see psd1.ts for sorting, CRLF and ASCII).
 *
 * The session configuration is per computer and made by session-configuration.ts at run time.
 * jea/generated/ holds the committed output (generate-cli.ts); the package ships it as jea/.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'fs';
import * as path from 'path';
import { JEA_MODULE_FOLDER, JEA_MODULE_NAME } from '../core/node-layout';
import { functionCalls, renderAgentCall } from './agent-call';
import { PsdHashtable, PsdScriptBlock, PsdValue, quote, renderDataFile } from './psd1';
import { CommandRule, FunctionDefinition, FunctionParameter, ROLES_DIR, RoleDefinition, loadRoles } from './role-model';
import { checkRoleSetSafety } from './safety';
import { roleCapabilityName } from './session-configuration';

export const GENERATED_DIR = path.join(__dirname, 'generated');

export interface GeneratedFile {
  /** Relative to the module folder, with forward slashes. */
  relativePath: string;
  content: string;
}

export interface GeneratedJeaFiles {
  files: GeneratedFile[];
  /** The role data the files were made from (already checked). */
  roles: RoleDefinition[];
}

/** Fixed so the manifest's bytes depend on nothing but this file. */
const MODULE_GUID = '3c3cb7b2-8a01-468d-9308-a61788d42830';
const MODULE_VERSION = '1.0.0';
const ROLES_WITH_CAPABILITIES = ['Diagnostics', 'Repair'];

const byName = (a: { name: string }, b: { name: string }): number => {
  const la = a.name.toLowerCase();
  const lb = b.name.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
};

/** A plain name when every parameter is allowed; otherwise JEA's Name/Parameters hashtable (a switch needs no constraint). */
function renderCommand(command: CommandRule): PsdValue {
  if (command.parameters === undefined) return command.name;
  return {
    Name: command.name,
    Parameters: command.parameters.map((p) => ({ Name: p.name, ValidateSet: p.validateSet, ValidatePattern: p.validatePattern })),
  };
}

/** Always loaded in every session; JEA ignores it in ModulesToImport, so it is not listed. */
const CORE_MODULE = 'microsoft.powershell.core';

/** `Module\Verb-Noun` -> Module. */
export function moduleOfCall(call: string): string | undefined {
  const at = call.lastIndexOf('\\');
  return at > 0 ? call.slice(0, at) : undefined;
}

/**
 * Modules the role's commands come from, and those its own functions call. A JEA session does not
 * autoload modules, and JEA only looks for a restricted command (one with Parameters) among modules
 * already imported.
 */
export function modulesToImport(role: RoleDefinition): string[] {
  const named = [
    ...[...role.visibleCmdlets, ...role.visibleFunctions].flatMap((c) => (c.module ? [c.module] : [])),
    ...role.functionDefinitions.flatMap((f) => functionCalls(f).flatMap((call) => moduleOfCall(call) ?? [])),
  ];
  const modules = new Map(named.filter((m) => m.toLowerCase() !== CORE_MODULE).map((m) => [m.toLowerCase(), m]));
  return [...modules.values()].sort((a, b) => byName({ name: a }, { name: b }));
}

const POWERSHELL_TYPE: Record<FunctionParameter['type'], string> = {
  string: '[string]',
  'string[]': '[string[]]',
  int: '[int]',
  'int[]': '[int[]]',
  long: '[long]',
  switch: '[switch]',
};

/**
 * A function of our own as JEA defines it: a param block written from the role data (so its
 * constraints are the ones the safety rules checked; patterns anchored as JEA anchors a role's),
 * then the body, and for a function that runs the agent, the generated call and the answer.
 */
export function renderFunctionScript(f: FunctionDefinition): string {
  const parameters = f.parameters.map((p, i) => {
    const lines: string[] = [];
    if (p.mandatory) lines.push('[Parameter(Mandatory = $true)]');
    if (p.validateSet) lines.push(`[ValidateSet(${p.validateSet.map(quote).join(', ')})]`);
    if (p.validatePattern !== undefined) lines.push(`[ValidatePattern(${quote(`^(${p.validatePattern})$`)})]`);
    lines.push(`${POWERSHELL_TYPE[p.type]} $${p.name}${i < f.parameters.length - 1 ? ',' : ''}`);
    return lines.map((line) => `    ${line}`).join('\n');
  });
  const script = ['[CmdletBinding()]', 'param(', parameters.join('\n\n'), ')', f.body.replace(/\s+$/, '')];
  if (f.agent) script.push(renderAgentCall(f.agent), (f.answer ?? '').replace(/\s+$/, ''));
  return script.join('\n');
}

export function renderRoleCapability(role: RoleDefinition, source: string): string {
  const data: PsdHashtable = {
    GUID: role.guid,
    Author: 'Arc Remote Support',
    Description: role.description,
    ModulesToImport: modulesToImport(role),
    VisibleCmdlets: [...role.visibleCmdlets].sort(byName).map(renderCommand),
    // Our own functions are visible by construction (DESIGN section 4: each is listed here).
    VisibleFunctions: [...role.visibleFunctions, ...role.functionDefinitions.map((f) => ({ name: f.name }))]
      .sort(byName)
      .map(renderCommand),
    VisibleExternalCommands: role.visibleExternalCommands.length > 0 ? [...role.visibleExternalCommands].sort() : undefined,
    VisibleProviders: role.visibleProviders.length > 0 ? [...role.visibleProviders].sort() : undefined,
    FunctionDefinitions:
      role.functionDefinitions.length > 0
        ? [...role.functionDefinitions]
            .sort(byName)
            .map((f) => ({ Name: f.name, ScriptBlock: new PsdScriptBlock(renderFunctionScript(f)) }))
        : undefined,
  };
  return renderDataFile([`Arc Remote Support JEA role ${role.name}. Generated by jea/generate.ts from ${source}; do not edit.`], data);
}

export function renderModuleManifest(): string {
  return renderDataFile(
    [`Module manifest of ${JEA_MODULE_NAME}, which holds the JEA role capabilities. Generated by jea/generate.ts; do not edit.`],
    {
      ModuleVersion: MODULE_VERSION,
      GUID: MODULE_GUID,
      Author: 'Arc Remote Support',
      Description: 'Role capabilities of the Arc Remote Support JEA endpoint (RoleCapabilities folder). Exports no commands.',
      PowerShellVersion: '5.1',
      FunctionsToExport: [],
      CmdletsToExport: [],
      VariablesToExport: [],
      AliasesToExport: [],
    },
  );
}

/** The module's files; throws when a role fails the safety rules or an expected role is missing. */
export function generateJeaFiles(rolesDir: string = ROLES_DIR): GeneratedJeaFiles {
  const roles = loadRoles(rolesDir);
  const names = roles.map((r) => r.name);
  for (const expected of ROLES_WITH_CAPABILITIES) {
    if (!names.includes(expected)) throw new Error(`No role named ${expected} in ${rolesDir}`);
  }
  if (new Set(names.map((n) => n.toLowerCase())).size !== names.length)
    throw new Error(`Two roles share a name in ${rolesDir}: ${names.join(', ')}`);
  const problems = checkRoleSetSafety(roles);
  if (problems.length > 0) throw new Error(`Unsafe JEA roles:\n  ${problems.join('\n  ')}`);
  return renderJeaFiles(roles);
}

/**
 * The files for roles as given, without the safety rules: only for tests that must show the
 * runspace proofs catch a weakened role on their own. Everything shipped goes through generateJeaFiles.
 */
export function renderJeaFiles(roles: RoleDefinition[]): GeneratedJeaFiles {
  const files: GeneratedFile[] = [{ relativePath: `${JEA_MODULE_NAME}.psd1`, content: renderModuleManifest() }];
  for (const role of roles) {
    files.push({
      relativePath: `RoleCapabilities/${roleCapabilityName(role.name)}.psrc`,
      content: renderRoleCapability(role, `jea/roles/${role.name}.yaml`),
    });
  }
  return { files, roles };
}

/** Where a generated file goes on the node. */
export function nodePath(relativePath: string): string {
  return `${JEA_MODULE_FOLDER}\\${relativePath.split('/').join('\\')}`;
}

/** Differences between the generated files and a folder's contents: missing, changed, extra. */
export function compareWithFolder(files: readonly GeneratedFile[], dir: string): string[] {
  const problems: string[] = [];
  const expected = new Set(files.map((f) => f.relativePath));
  for (const file of files) {
    const onDisk = path.join(dir, ...file.relativePath.split('/'));
    if (!existsSync(onDisk)) problems.push(`missing: ${file.relativePath}`);
    else if (!readFileSync(onDisk).equals(Buffer.from(file.content, 'ascii'))) problems.push(`changed: ${file.relativePath}`);
  }
  for (const relativePath of listFiles(dir)) {
    if (!expected.has(relativePath)) problems.push(`extra: ${relativePath}`);
  }
  return problems;
}

/** Files under dir as forward-slash relative paths; dot files (.gitattributes) are not output. */
export function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((entry) => !entry.startsWith('.'))
    .sort()
    .flatMap((entry) => {
      const full = path.join(dir, entry);
      const relative = prefix === '' ? entry : `${prefix}/${entry}`;
      return statSync(full).isDirectory() ? listFiles(full, relative) : [relative];
    });
}
