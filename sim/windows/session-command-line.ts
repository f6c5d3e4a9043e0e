/**
 * A typed line as a simulated NoLanguage session takes it: one command name, then -Parameter
 * [value] pairs and plain arguments, values bare or quoted ('single' or "double" without $ or `),
 * or a list of such values separated by commas (a,b or 'a', "b": an array of constants).
 * Everything else is language (pipelines, statements, variables, script blocks, subexpressions,
 * arrays, assignments, redirection) and is refused with the runspace's own words, as a NoLanguage
 * runspace refuses script text. A value following a parameter binds to it unless the parameter is
 * a switch (`isSwitch`).
 */

export const NO_LANGUAGE = 'The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode.';

/** A value: `text` as typed; `items` its elements (one, or several for a comma list). */
export type Token = { kind: 'parameter'; name: string } | { kind: 'value'; text: string; items: string[] };

export interface CommandLine {
  command: string;
  tokens: Token[];
}

const BARE = /^[^\s'"`$|;&(){}[\]@,=<>#]+/;

/** One bare or quoted value at the start of `rest`, or null when it is language. */
function readValue(rest: string): { text: string; quoted: boolean; rest: string } | null {
  if (rest.startsWith("'")) {
    const end = rest.indexOf("'", 1);
    if (end < 0) return null;
    return { text: rest.slice(1, end), quoted: true, rest: rest.slice(end + 1) };
  }
  if (rest.startsWith('"')) {
    const end = rest.indexOf('"', 1);
    if (end < 0 || /[$`]/.test(rest.slice(1, end))) return null;
    return { text: rest.slice(1, end), quoted: true, rest: rest.slice(end + 1) };
  }
  const match = BARE.exec(rest);
  return match ? { text: match[0], quoted: false, rest: rest.slice(match[0].length) } : null;
}

export function parseCommandLine(line: string): CommandLine | { error: string } {
  const tokens: Token[] = [];
  let rest = line.trim();
  while (rest.length > 0) {
    const first = readValue(rest);
    if (!first) return { error: NO_LANGUAGE };
    const items = [first.text];
    rest = first.rest;
    // A comma list: more values after commas (spaces around a comma are allowed).
    while (/^\s*,/.test(rest) && tokens.length > 0) {
      const next = readValue(rest.replace(/^\s*,\s*/, ''));
      if (!next) return { error: NO_LANGUAGE };
      items.push(next.text);
      rest = next.rest;
    }
    if (rest.length > 0 && !/^\s/.test(rest)) return { error: NO_LANGUAGE };
    rest = rest.trimStart();
    const text = items.join(',');
    if (items.length === 1 && !first.quoted && /^-[A-Za-z][A-Za-z0-9]*:?$/.test(text) && tokens.length > 0) {
      if (text.endsWith(':')) return { error: NO_LANGUAGE };
      tokens.push({ kind: 'parameter', name: text.slice(1) });
    } else {
      tokens.push({ kind: 'value', text, items });
    }
  }
  const [first, ...others] = tokens;
  if (!first || first.kind !== 'value' || !/^[A-Za-z][A-Za-z0-9-]*$/.test(first.text)) return { error: NO_LANGUAGE };
  return { command: first.text, tokens: others };
}
