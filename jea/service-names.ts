/**
 * The Repair role's service-name constraint, made from the one list of protected services
 * (core/node-layout.ts PROTECTED_SERVICE_TABLE), and the probes that test any such constraint: every
 * letter case of every protected name, wildcards, display names, padding.
 */
import { PROTECTED_SERVICE_TABLE } from '../core/node-layout';
import type { ParameterRule } from './role-model';

/**
 * Plain service-name characters only: no wildcards, and no spaces, so no display names (which
 * Windows would also resolve to a service). ASCII only, so no Unicode case folding can turn a
 * character into a letter of a protected name.
 */
const SERVICE_NAME_CHARACTERS = '[A-Za-z0-9_.$@-]+';

/** `WinRM` -> `[Ww][Ii][Nn][Rr][Mm]`: case spelled out, so the check needs no case folding. */
function anyCase(name: string): string {
  return [...name]
    .map((ch) => {
      const lower = ch.toLowerCase();
      const upper = ch.toUpperCase();
      if (lower !== upper) return `[${upper}${lower}]`;
      return /[A-Za-z0-9_@-]/.test(ch) ? ch : `\\${ch}`;
    })
    .join('');
}

/**
 * A ValidatePattern (JEA anchors it as ^(pattern)$) accepting a plain service name unless it is one
 * of `services`, in any letter case.
 */
export function unprotectedServiceNamePattern(services: readonly string[] = PROTECTED_SERVICE_TABLE.map((s) => s.name)): string {
  if (services.length === 0) return SERVICE_NAME_CHARACTERS;
  return `(?!(?:${services.map(anyCase).join('|')})$)${SERVICE_NAME_CHARACTERS}`;
}

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
export function protectedServiceProbes(table: typeof PROTECTED_SERVICE_TABLE = PROTECTED_SERVICE_TABLE): string[] {
  const probes = new Set<string>(['*', '?*', '[A-Z]*']);
  for (const { name, displayNames } of table) {
    for (const variant of caseVariants(name)) probes.add(variant);
    probes.add(`${name}*`);
    probes.add(`${name.slice(0, 1)}*`);
    probes.add(`*${name.slice(1)}`);
    probes.add(`${name.slice(0, -1)}?`);
    probes.add(`[${name.slice(0, 1)}]${name.slice(1)}`);
    probes.add(` ${name}`);
    probes.add(`${name} `);
    for (const display of displayNames) {
      probes.add(display);
      probes.add(display.toLowerCase());
      probes.add(display.toUpperCase());
    }
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
