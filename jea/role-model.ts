/**
 * Roles as data: the YAML files in jea/roles/ describe what each access level may run. This
 * module reads them strictly (unknown keys are errors, so a typo never silently widens or drops a
 * restriction) into RoleDefinition, which the safety rules check and the generator writes as .psrc.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

/** One allowed parameter; at most one of validateSet / validatePattern (JEA lets a pattern override a set). */
export interface ParameterRule {
  name: string;
  validateSet?: string[];
  validatePattern?: string;
}

/**
 * A visible cmdlet or function. `parameters` undefined: every parameter of the command;
 * an array: only those (PowerShell's common parameters are always allowed); [] : none.
 * `module` is where the command lives on Windows: the .psrc imports it, because JEA sessions do
 * not autoload modules for restricted commands.
 */
export interface CommandRule {
  name: string;
  module?: string;
  parameters?: ParameterRule[];
}

export interface FunctionDefinition {
  name: string;
  /** The body, PowerShell source without the outer braces. */
  scriptBlock: string;
}

export interface RoleDefinition {
  /** Role name; the capability file is ArcRemoteSupport<name>.psrc. */
  name: string;
  guid: string;
  description: string;
  /** A read-only role may only run commands whose verb only reads (see safety.ts). */
  readOnly: boolean;
  visibleCmdlets: CommandRule[];
  visibleFunctions: CommandRule[];
  visibleExternalCommands: string[];
  visibleProviders: string[];
  functionDefinitions: FunctionDefinition[];
}

export const ROLES_DIR = path.join(__dirname, 'roles');

type Json = unknown;

/** A role file that breaks the format; the message says where and what is wrong. */
class RoleFileError extends Error {
  override readonly name = 'RoleFileError';
}

function fail(where: string, message: string): never {
  throw new RoleFileError(`${where}: ${message}`);
}

/** `x-` keys are allowed at the top of a file only, to hold YAML anchors that entries reuse. */
function asObject(value: Json, where: string, allowed: readonly string[], allowExtensions = false): Record<string, Json> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, 'must be a mapping');
  const record = value as Record<string, Json>;
  for (const key of Object.keys(record)) {
    if (allowExtensions && key.startsWith('x-')) continue;
    if (!allowed.includes(key)) fail(where, `unknown key '${key}' (allowed: ${allowed.join(', ')})`);
  }
  return record;
}

function asString(value: Json, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') fail(where, 'must be a non-empty string');
  return value;
}

function asStringList(value: Json, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, 'must be a list');
  return value.map((item, i) => asString(item, `${where}[${i}]`));
}

function parseParameter(value: Json, where: string): ParameterRule {
  const o = asObject(value, where, ['name', 'validateSet', 'validatePattern']);
  const rule: ParameterRule = { name: asString(o['name'], `${where}.name`) };
  if (o['validateSet'] !== undefined) {
    rule.validateSet = asStringList(o['validateSet'], `${where}.validateSet`);
    if (rule.validateSet.length === 0) fail(where, 'validateSet must not be empty');
  }
  if (o['validatePattern'] !== undefined) rule.validatePattern = asString(o['validatePattern'], `${where}.validatePattern`);
  if (rule.validateSet && rule.validatePattern !== undefined) fail(where, 'use validateSet or validatePattern, not both');
  return rule;
}

function parseCommand(value: Json, where: string): CommandRule {
  const o = asObject(value, where, ['name', 'module', 'parameters']);
  const rule: CommandRule = { name: asString(o['name'], `${where}.name`) };
  if (o['module'] !== undefined) rule.module = asString(o['module'], `${where}.module`);
  if (o['parameters'] !== undefined) {
    if (!Array.isArray(o['parameters'])) fail(`${where}.parameters`, 'must be a list ([] allows no parameters)');
    rule.parameters = o['parameters'].map((p: Json, i: number) => parseParameter(p, `${where}.parameters[${i}]`));
  }
  return rule;
}

function parseCommands(value: Json, where: string): CommandRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(where, 'must be a list');
  return value.map((item, i) => parseCommand(item, `${where}[${i}]`));
}

/** Reads one role from YAML text; `source` names the file in errors. */
export function parseRole(text: string, source: string): RoleDefinition {
  const o = asObject(parse(text) as Json, source, [
    'name', 'guid', 'description', 'readOnly', 'visibleCmdlets', 'visibleFunctions',
    'visibleExternalCommands', 'visibleProviders', 'functionDefinitions',
  ], true);
  const name = asString(o['name'], `${source}.name`);
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) fail(`${source}.name`, 'must be letters and digits (it becomes a file name)');
  const guid = asString(o['guid'], `${source}.guid`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(guid)) fail(`${source}.guid`, 'must be a lower-case GUID');
  if (o['readOnly'] !== undefined && typeof o['readOnly'] !== 'boolean') fail(`${source}.readOnly`, 'must be true or false');
  const functionDefinitions = (() => {
    const value = o['functionDefinitions'];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) fail(`${source}.functionDefinitions`, 'must be a list');
    return value.map((item: Json, i: number) => {
      const where = `${source}.functionDefinitions[${i}]`;
      const f = asObject(item, where, ['name', 'scriptBlock']);
      return { name: asString(f['name'], `${where}.name`), scriptBlock: asString(f['scriptBlock'], `${where}.scriptBlock`) };
    });
  })();
  return {
    name,
    guid,
    description: asString(o['description'], `${source}.description`).trim(),
    readOnly: o['readOnly'] === true,
    visibleCmdlets: parseCommands(o['visibleCmdlets'], `${source}.visibleCmdlets`),
    visibleFunctions: parseCommands(o['visibleFunctions'], `${source}.visibleFunctions`),
    visibleExternalCommands: asStringList(o['visibleExternalCommands'], `${source}.visibleExternalCommands`),
    visibleProviders: asStringList(o['visibleProviders'], `${source}.visibleProviders`),
    functionDefinitions,
  };
}

/** Every *.yaml in the folder, sorted by file name so the output never depends on directory order. */
export function loadRoles(rolesDir: string = ROLES_DIR): RoleDefinition[] {
  return readdirSync(rolesDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const source = path.join(path.basename(rolesDir), f);
      const role = parseRole(readFileSync(path.join(rolesDir, f), 'utf8'), source);
      // One name for the role, its file and its .psrc keeps them easy to find from each other.
      if (`${role.name}.yaml` !== f) fail(source, `the file of role '${role.name}' must be named ${role.name}.yaml`);
      return role;
    });
}
