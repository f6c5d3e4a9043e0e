/**
 * Writes PowerShell data files (.psd1, .psrc, .pssc) as canonical text: hashtable keys sorted,
 * strings single-quoted, four-space indents, CRLF line endings, ASCII only.
 *
 * Why ASCII and no BOM: Windows PowerShell 5.1 reads a file without a BOM in the ANSI code page,
 * and ASCII is the same bytes in every code page and in UTF-8, so the file means the same to every
 * reader. A BOM would not survive the host's readFile (File.ReadAllText drops it), so the plan would
 * see a changed session configuration on every run and register the endpoint again, which
 * restarts WinRM. Non-ASCII input is refused rather than encoded.
 */

/** A script block literal, for FunctionDefinitions; its text is written as is, line by line. */
export class PsdScriptBlock {
  constructor(readonly text: string) {}
}

/** A value a data file may hold. `undefined` members of a hashtable are left out. */
export type PsdValue = string | number | boolean | PsdScriptBlock | PsdValue[] | PsdHashtable;
export interface PsdHashtable {
  [key: string]: PsdValue | undefined;
}

const EOL = '\r\n';
const INDENT = '    ';

/** Keys sort case-insensitively (PowerShell hashtables ignore case), then ordinally for ties. */
function compareKeys(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertAscii(text: string, what: string): void {
  // Printable ASCII only: no control characters (a newline inside a quoted value hides structure).
  if (!/^[\x20-\x7e]*$/.test(text)) throw new Error(`${what} must be printable ASCII: ${JSON.stringify(text)}`);
}

/** A single-quoted string literal: no expansion happens inside, and ' is escaped by doubling. */
export function quote(value: string): string {
  assertAscii(value, 'A data file string');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Bare keys only when PowerShell would read them as the same simple name. */
function renderKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : quote(key);
}

function renderValue(value: PsdValue, depth: number): string[] {
  if (typeof value === 'string') return [quote(value)];
  if (typeof value === 'boolean') return [value ? '$true' : '$false'];
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`Only safe integers are written to data files, not ${value}`);
    return [String(value)];
  }
  const pad = INDENT.repeat(depth + 1);
  const close = INDENT.repeat(depth);
  if (value instanceof PsdScriptBlock) {
    // Lines keep their own indentation under the key's; blank lines at either end are dropped.
    const body = value.text
      .replace(/^\s*\n|\n\s*$/g, '')
      .split(/\r?\n/)
      .map((line) => line.trimEnd());
    for (const line of body) assertAscii(line, 'A script block line');
    return ['{', ...body.map((line) => (line === '' ? '' : pad + line)), `${close}}`];
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return ['@()'];
    const lines = ['@('];
    for (const item of value) {
      const rendered = renderValue(item, depth + 1);
      lines.push(pad + rendered[0], ...rendered.slice(1));
    }
    lines.push(`${close})`);
    return lines;
  }
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort(compareKeys);
  if (keys.length === 0) return ['@{}'];
  const lines = ['@{'];
  for (const key of keys) {
    const rendered = renderValue(value[key] as PsdValue, depth + 1);
    lines.push(`${pad}${renderKey(key)} = ${rendered[0]}`, ...rendered.slice(1));
  }
  lines.push(`${close}}`);
  return lines;
}

/**
 * The whole file: `#` comment lines, then the hashtable, CRLF after every line.
 * The comment must be ASCII too; it tells a reader on the node where the file came from.
 */
export function renderDataFile(comment: readonly string[], data: PsdHashtable): string {
  for (const line of comment) assertAscii(line, 'A data file comment');
  const lines = [...comment.map((line) => (line === '' ? '#' : `# ${line}`)), ...renderValue(data, 0)];
  return lines.join(EOL) + EOL;
}
