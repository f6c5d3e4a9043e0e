/**
 * Roles as data: the YAML files in jea/roles/ describe what each access level may run. This
 * module reads them strictly (unknown keys are errors, so a typo never silently widens or drops a
 * restriction) into RoleDefinition, which the safety rules check and the generator writes as .psrc.
 */
import { readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { unprotectedServiceNamePattern } from './service-names';

/**
 * One allowed parameter, constrained one way at most: a validateSet, a validatePattern (JEA anchors
 * it as ^(pattern)$, ignoring case), or `switch` for a parameter that takes no value (test/jea
 * checks each against the Windows Server 2016 parameter inventory). YAML `refuseProtectedServices:
 * true` stands for the pattern made from the protected-service list (jea/service-names.ts).
 */
export interface ParameterRule {
  name: string;
  validateSet?: string[];
  validatePattern?: string;
  switch?: boolean;
  refusesProtectedServices?: boolean;
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

/** The types a function of our own may declare; `switch` takes no value. */
export const FUNCTION_PARAMETER_TYPES = ['string', 'string[]', 'int', 'int[]', 'long', 'switch'] as const;
export type FunctionParameterType = (typeof FUNCTION_PARAMETER_TYPES)[number];

export interface FunctionParameter extends ParameterRule {
  type: FunctionParameterType;
  mandatory: boolean;
}

/**
 * A function of our own (JEA FunctionDefinitions), visible to the role's users. Its body runs in
 * full language, so it is written to build what it runs from validated parameters only; the
 * generator writes the param block from `parameters`, so the same safety rules apply to them as to
 * any visible command's.
 */
export interface FunctionDefinition {
  name: string;
  /** The commands the body runs, module-qualified (Module\Verb-Noun); test/jea checks the body against them. */
  calls: string[];
  parameters: FunctionParameter[];
  /** PowerShell statements after the generated param block. */
  body: string;
  /**
   * The node agent command the function runs, after the body. The generator writes that call
   * itself (jea/generate.ts renderAgentCall): the installed agent, this subcommand, and each
   * flag's value from the local variable the body set (named after the flag: --from -> $from),
   * except --requested-by, which is the connected user. jea/safety.ts allows only listed
   * subcommands and flags.
   */
  agent?: AgentCall;
  /** With `agent`: PowerShell statements after the call, reading $agentLines and $agentExitCode. */
  answer?: string;
}

export interface AgentCall {
  subcommand: string;
  /** The flags passed, in order (`--json`, or `--from` with its value). */
  arguments: string[];
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

const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** The keys every parameter may have; a constraint is one of the last four at most. */
const PARAMETER_KEYS = ['name', 'validateSet', 'validatePattern', 'switch', 'refuseProtectedServices'];

function asTrue(value: Json, where: string): true {
  if (value !== true) fail(where, 'must be true when given');
  return true;
}

function parseParameter(value: Json, where: string): ParameterRule {
  const o = asObject(value, where, PARAMETER_KEYS);
  const rule: ParameterRule = { name: asString(o['name'], `${where}.name`) };
  if (!PARAMETER_NAME.test(rule.name)) fail(`${where}.name`, 'must be letters and digits');
  const given = ['validateSet', 'validatePattern', 'switch', 'refuseProtectedServices'].filter((k) => o[k] !== undefined);
  if (given.length > 1) fail(where, `use one of ${given.join(', ')}, not several`);
  if (o['validateSet'] !== undefined) {
    rule.validateSet = asStringList(o['validateSet'], `${where}.validateSet`);
    if (rule.validateSet.length === 0) fail(where, 'validateSet must not be empty');
  }
  if (o['validatePattern'] !== undefined) rule.validatePattern = asString(o['validatePattern'], `${where}.validatePattern`);
  if (o['switch'] !== undefined) rule.switch = asTrue(o['switch'], `${where}.switch`);
  if (o['refuseProtectedServices'] !== undefined) {
    rule.refusesProtectedServices = asTrue(o['refuseProtectedServices'], `${where}.refuseProtectedServices`);
    rule.validatePattern = unprotectedServiceNamePattern();
  }
  return rule;
}

function parseFunctionParameter(value: Json, where: string): FunctionParameter {
  const o = asObject(value, where, ['name', 'type', 'mandatory', 'validateSet', 'validatePattern']);
  const { type, mandatory, ...rest } = o;
  const rule = parseParameter(rest, where);
  if (typeof type !== 'string' || !(FUNCTION_PARAMETER_TYPES as readonly string[]).includes(type)) {
    fail(`${where}.type`, `must be one of ${FUNCTION_PARAMETER_TYPES.join(', ')}`);
  }
  if (mandatory !== undefined && typeof mandatory !== 'boolean') fail(`${where}.mandatory`, 'must be true or false');
  if (type === 'switch') {
    if (rule.validateSet || rule.validatePattern !== undefined) fail(where, 'a switch takes no value to validate');
    if (mandatory === true) fail(where, 'a switch cannot be mandatory');
    rule.switch = true;
  }
  return { ...rule, type: type as FunctionParameterType, mandatory: mandatory === true };
}

function parseAgentCall(value: Json, where: string): AgentCall {
  const o = asObject(value, where, ['subcommand', 'arguments']);
  const subcommand = asString(o['subcommand'], `${where}.subcommand`);
  if (!/^[a-z][a-z-]*$/.test(subcommand)) fail(`${where}.subcommand`, 'must be a lower-case agent command name');
  const args = asStringList(o['arguments'], `${where}.arguments`);
  for (const [i, flag] of args.entries()) if (!/^--[a-z][a-z-]*$/.test(flag)) fail(`${where}.arguments[${i}]`, 'must be a --flag');
  return { subcommand, arguments: args };
}

function parseFunctionDefinition(value: Json, where: string): FunctionDefinition {
  const f = asObject(value, where, ['name', 'calls', 'parameters', 'body', 'agent', 'answer']);
  const parameters = f['parameters'] ?? [];
  if (!Array.isArray(parameters)) fail(`${where}.parameters`, 'must be a list');
  const definition: FunctionDefinition = {
    name: asString(f['name'], `${where}.name`),
    calls: asStringList(f['calls'], `${where}.calls`),
    parameters: parameters.map((p: Json, i: number) => parseFunctionParameter(p, `${where}.parameters[${i}]`)),
    body: asString(f['body'], `${where}.body`),
  };
  if (f['agent'] !== undefined) definition.agent = parseAgentCall(f['agent'], `${where}.agent`);
  if (f['answer'] !== undefined) {
    if (!definition.agent) fail(`${where}.answer`, "reads the agent's answer, so it needs agent");
    definition.answer = asString(f['answer'], `${where}.answer`);
  }
  return definition;
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
  const o = asObject(
    parse(text) as Json,
    source,
    [
      'name',
      'guid',
      'description',
      'readOnly',
      'visibleCmdlets',
      'visibleFunctions',
      'visibleExternalCommands',
      'visibleProviders',
      'functionDefinitions',
    ],
    true,
  );
  const name = asString(o['name'], `${source}.name`);
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) fail(`${source}.name`, 'must be letters and digits (it becomes a file name)');
  const guid = asString(o['guid'], `${source}.guid`);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(guid)) fail(`${source}.guid`, 'must be a lower-case GUID');
  if (o['readOnly'] !== undefined && typeof o['readOnly'] !== 'boolean') fail(`${source}.readOnly`, 'must be true or false');
  const functionDefinitions = (() => {
    const value = o['functionDefinitions'];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) fail(`${source}.functionDefinitions`, 'must be a list');
    return value.map((item: Json, i: number) => parseFunctionDefinition(item, `${source}.functionDefinitions[${i}]`));
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
