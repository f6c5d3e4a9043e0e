/**
 * A typed line as a simulated NoLanguage session takes it: one command name, then -Parameter
 * [value] pairs and plain arguments, values bare or quoted ('single' or "double" without $ or `).
 * Everything else is language (pipelines, statements, variables, script blocks, subexpressions,
 * arrays, assignments, redirection) and is refused with the runspace's own words, as a NoLanguage
 * runspace refuses script text. A value following a parameter binds to it unless the parameter is
 * a switch (`isSwitch`).
 */

export const NO_LANGUAGE = 'The syntax is not supported by this runspace. This can occur if the runspace is in no-language mode.';

export type Token = { kind: 'parameter'; name: string } | { kind: 'value'; text: string };

export interface CommandLine {
  command: string;
  tokens: Token[];
}

const BARE = /^[^\s'"`$|;&(){}[\]@,=<>#]+/;

export function parseCommandLine(line: string): CommandLine | { error: string } {
  const tokens: Token[] = [];
  let rest = line.trim();
  while (rest.length > 0) {
    let text: string;
    let quoted = false;
    if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) return { error: NO_LANGUAGE };
      text = rest.slice(1, end);
      rest = rest.slice(end + 1);
      quoted = true;
    } else if (rest.startsWith('"')) {
      const end = rest.indexOf('"', 1);
      if (end < 0) return { error: NO_LANGUAGE };
      text = rest.slice(1, end);
      if (/[$`]/.test(text)) return { error: NO_LANGUAGE };
      rest = rest.slice(end + 1);
      quoted = true;
    } else {
      const match = BARE.exec(rest);
      if (!match) return { error: NO_LANGUAGE };
      text = match[0];
      rest = rest.slice(text.length);
    }
    if (rest.length > 0 && !/^\s/.test(rest)) return { error: NO_LANGUAGE };
    rest = rest.trimStart();
    if (!quoted && /^-[A-Za-z][A-Za-z0-9]*:?$/.test(text) && tokens.length > 0) {
      if (text.endsWith(':')) return { error: NO_LANGUAGE };
      tokens.push({ kind: 'parameter', name: text.slice(1) });
    } else {
      tokens.push({ kind: 'value', text });
    }
  }
  const [first, ...others] = tokens;
  if (!first || first.kind !== 'value' || !/^[A-Za-z][A-Za-z0-9-]*$/.test(first.text)) return { error: NO_LANGUAGE };
  return { command: first.text, tokens: others };
}
