/**
 * Just enough of the Azure Resource Manager template language and the Azure Policy rule language
 * to run our own policy definitions and templates offline: the functions and operators they use,
 * nothing more. Anything else throws, so a definition that starts using something new fails its
 * tests until this file learns it on purpose.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Value = Json | undefined;

/**
 * Policy aliases our definitions use, with the resource property each one reads. The paths are
 * the "default path" that `Get-AzPolicyAlias -NamespaceMatch Microsoft.HybridCompute` reports.
 * `type`, `name` and `location` are resource fields, not aliases.
 */
export const ALIAS_PATHS: Record<string, string> = {
  type: 'type',
  name: 'name',
  location: 'location',
  'Microsoft.HybridCompute/machines/osName': 'properties.osName',
  'Microsoft.HybridCompute/machines/extensions/type': 'properties.type',
  'Microsoft.HybridCompute/machines/extensions/publisher': 'properties.publisher',
  'Microsoft.HybridCompute/machines/extensions/provisioningState': 'properties.provisioningState',
  'Microsoft.HybridCompute/machines/extensions/settings': 'properties.settings',
};

export function readField(resource: Json, alias: string): Value {
  const path = ALIAS_PATHS[alias];
  if (path === undefined) throw new Error(`unknown policy alias ${alias}`);
  let at: Value = resource;
  for (const key of path.split('.')) {
    if (at === null || at === undefined || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = at[key];
  }
  return at;
}

// ---- expressions -------------------------------------------------------------------------

type Node = { kind: 'string'; value: string } | { kind: 'number'; value: number } | { kind: 'call'; name: string; args: Node[] };

/** A JSON string is an expression when it is wrapped in [ ] and does not start with [[ (an escaped literal). */
export function isExpression(text: string): boolean {
  return text.startsWith('[') && text.endsWith(']') && !text.startsWith('[[');
}

export function parseExpression(text: string): Node {
  if (!isExpression(text)) throw new Error(`not an expression: ${text}`);
  const source = text.slice(1, -1);
  let at = 0;
  const skip = () => {
    while (at < source.length && /\s/.test(source[at]!)) at += 1;
  };
  const node = (): Node => {
    skip();
    const c = source[at];
    if (c === "'") {
      let value = '';
      at += 1;
      for (;;) {
        if (at >= source.length) throw new Error(`unterminated string in ${text}`);
        if (source[at] === "'") {
          if (source[at + 1] === "'") {
            value += "'";
            at += 2;
            continue;
          }
          at += 1;
          return { kind: 'string', value };
        }
        value += source[at];
        at += 1;
      }
    }
    const number = /^-?\d+/.exec(source.slice(at));
    if (number) {
      at += number[0].length;
      return { kind: 'number', value: Number(number[0]) };
    }
    const name = /^[A-Za-z][A-Za-z0-9]*/.exec(source.slice(at));
    if (!name) throw new Error(`unexpected ${JSON.stringify(source.slice(at))} in ${text}`);
    at += name[0].length;
    skip();
    if (source[at] !== '(') throw new Error(`expected ( after ${name[0]} in ${text}`);
    at += 1;
    const args: Node[] = [];
    skip();
    if (source[at] === ')') {
      at += 1;
    } else {
      for (;;) {
        args.push(node());
        skip();
        if (source[at] === ',') {
          at += 1;
          continue;
        }
        if (source[at] === ')') {
          at += 1;
          break;
        }
        throw new Error(`expected , or ) in ${text}`);
      }
    }
    skip();
    if (source[at] === '.' || source[at] === '[')
      throw new Error(`property access is not supported (nor allowed on field() in Azure Policy): ${text}`);
    return { kind: 'call', name: name[0], args };
  };
  const result = node();
  skip();
  if (at !== source.length) throw new Error(`trailing text in ${text}`);
  return result;
}

export interface ExpressionContext {
  parameters: Record<string, Json>;
  /** Present in a policy rule: the resource the if condition evaluates. */
  fieldOf?: Json;
  /** How string(object) serializes; ARM gives compact JSON, tests also try an indented engine. */
  serialize?: (value: Json) => string;
}

/** Every function name an expression calls, and every parameters('x') it reads. */
export function references(node: Node): { functions: string[]; parameters: string[]; fields: string[] } {
  const out = { functions: [] as string[], parameters: [] as string[], fields: [] as string[] };
  const walk = (n: Node) => {
    if (n.kind !== 'call') return;
    out.functions.push(n.name);
    const first = n.args[0];
    if (n.name === 'parameters' && first?.kind === 'string') out.parameters.push(first.value);
    if (n.name === 'field' && first?.kind === 'string') out.fields.push(first.value);
    n.args.forEach(walk);
  };
  walk(node);
  return out;
}

function evaluateNode(node: Node, context: ExpressionContext): Value {
  if (node.kind !== 'call') return node.value;
  const args = node.args.map((arg) => evaluateNode(arg, context));
  const text = (i: number): string => {
    const value = args[i];
    if (typeof value !== 'string') throw new Error(`${node.name}() argument ${i + 1} must be a string, got ${JSON.stringify(value)}`);
    return value;
  };
  switch (node.name) {
    case 'parameters': {
      const name = text(0);
      if (!(name in context.parameters)) throw new Error(`parameters('${name}') is not declared or has no value`);
      return context.parameters[name];
    }
    case 'field': {
      if (context.fieldOf === undefined) throw new Error('field() is only available in a policy rule');
      return readField(context.fieldOf, text(0));
    }
    case 'concat':
      return args.map((value) => (typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value))).join('');
    case 'string': {
      const value = args[0];
      if (value === undefined || value === null) return '';
      if (typeof value === 'string') return value;
      if (typeof value === 'object') return (context.serialize ?? JSON.stringify)(value);
      return String(value);
    }
    case 'replace':
      return text(0).split(text(1)).join(text(2));
    case 'toLower':
      return text(0).toLowerCase();
    case 'split':
      // ARM split() with one string delimiter keeps empty pieces, as String.split does.
      return text(0).split(text(1));
    case 'length': {
      const value = args[0];
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (value && typeof value === 'object') return Object.keys(value).length;
      throw new Error(`length() needs a string, array or object, got ${JSON.stringify(value)}`);
    }
    case 'contains': {
      // ARM contains(): a substring test on strings, and it is case-sensitive.
      const container = args[0];
      if (typeof container === 'string') return container.includes(text(1));
      if (Array.isArray(container)) return container.some((item) => JSON.stringify(item) === JSON.stringify(args[1]));
      if (container && typeof container === 'object') return Object.prototype.hasOwnProperty.call(container, text(1));
      throw new Error(`contains() needs a string, array or object, got ${JSON.stringify(container)}`);
    }
    default:
      throw new Error(`function ${node.name}() is not known to this evaluator`);
  }
}

export function evaluate(text: string, context: ExpressionContext): Value {
  return evaluateNode(parseExpression(text), context);
}

/** Replaces every expression string in a JSON value with its value; literals stay as they are. */
export function substitute(value: Json, context: ExpressionContext): Json {
  if (typeof value === 'string') {
    if (!isExpression(value)) return value.startsWith('[[') ? value.slice(1) : value;
    const result = evaluate(value, context);
    if (result === undefined) throw new Error(`${value} has no value`);
    return result;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, context));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, context)]));
  }
  return value;
}

/** Every expression string inside a JSON value, with the JSON path where it sits. */
export function expressionsIn(value: Json, path = '$'): { path: string; text: string }[] {
  if (typeof value === 'string') return isExpression(value) ? [{ path, text: value }] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => expressionsIn(item, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => expressionsIn(item, `${path}.${key}`));
  return [];
}

// ---- policy conditions -------------------------------------------------------------------

const OPERATORS = ['equals', 'notEquals', 'in', 'notIn', 'contains', 'notContains'] as const;

function same(a: Value, b: Value): boolean {
  // Policy compares strings without regard to case.
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Evaluates a policy condition (allOf, anyOf, not, field or value with one operator) against a resource. */
export function evaluateCondition(condition: Json, resource: Json, context: Omit<ExpressionContext, 'fieldOf'>): boolean {
  if (!condition || typeof condition !== 'object' || Array.isArray(condition))
    throw new Error(`bad condition ${JSON.stringify(condition)}`);
  const withField: ExpressionContext = { ...context, fieldOf: resource };
  const operand = (value: Json): Value => (typeof value === 'string' && isExpression(value) ? evaluate(value, withField) : value);
  if ('allOf' in condition) return (condition.allOf as Json[]).every((c) => evaluateCondition(c, resource, context));
  if ('anyOf' in condition) return (condition.anyOf as Json[]).some((c) => evaluateCondition(c, resource, context));
  if ('not' in condition) return !evaluateCondition(condition.not as Json, resource, context);
  let subject: Value;
  if ('field' in condition) subject = readField(resource, String(operand(condition.field as Json)));
  else if ('value' in condition) subject = operand(condition.value as Json);
  else throw new Error(`condition without field or value: ${JSON.stringify(condition)}`);
  const operators = OPERATORS.filter((name) => name in condition);
  if (operators.length !== 1) throw new Error(`condition needs exactly one known operator: ${JSON.stringify(condition)}`);
  const name = operators[0]!;
  const target = operand(condition[name] as Json);
  switch (name) {
    case 'equals':
      return same(subject, target);
    case 'notEquals':
      return !same(subject, target);
    case 'in':
      return (target as Json[]).some((item) => same(subject, item));
    case 'notIn':
      return !(target as Json[]).some((item) => same(subject, item));
    case 'contains':
    case 'notContains': {
      const found = typeof subject === 'string' && typeof target === 'string' && subject.toLowerCase().includes(target.toLowerCase());
      return name === 'contains' ? found : !found;
    }
  }
}

/** Every alias a condition reads through field, in both its field and value forms. */
export function aliasesIn(condition: Json): string[] {
  const out: string[] = [];
  const walk = (value: Json) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (!value || typeof value !== 'object') {
      if (typeof value === 'string' && isExpression(value)) out.push(...references(parseExpression(value)).fields);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key === 'field' && typeof item === 'string' && !isExpression(item)) out.push(item);
      else walk(item);
    }
  };
  walk(condition);
  return out;
}
