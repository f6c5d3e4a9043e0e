/**
 * The agent's command-line options after the command name: `--flag` switches and `--name value`
 * pairs, each command declaring the ones it takes. Anything else is refused, naming it.
 */
export interface CommandOptions {
  flags: Set<string>;
  values: Map<string, string>;
}

export interface OptionSpec {
  flags?: string[];
  values?: string[];
}

/** The options, or the problem with them (for exit code 2, with the usage). */
export function parseOptions(command: string, argv: string[], spec: OptionSpec): CommandOptions | { problem: string } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index]!;
    if (spec.flags?.includes(argument)) {
      flags.add(argument);
    } else if (spec.values?.includes(argument)) {
      const value = argv[index + 1];
      if (value === undefined || value.startsWith('--')) return { problem: `${command}: ${argument} needs a value` };
      values.set(argument, value);
      index += 1;
    } else {
      const known = [...(spec.flags ?? []), ...(spec.values ?? []).map((name) => `${name} <value>`)];
      return {
        problem: `${command}: unknown argument ${JSON.stringify(argument)}; it takes ${known.length ? known.join(', ') : 'no arguments'}`,
      };
    }
  }
  return { flags, values };
}
