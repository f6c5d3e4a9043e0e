/**
 * A strict JSON reader for settings (RFC 8259, nothing more). JSON.parse lets the last of two equal
 * keys win, so `{"level":"None", "level":"Diagnostics"}` would silently turn a revoke into a grant,
 * and it decodes invalid UTF-8 to U+FFFD without a word. This reader works on the bytes and refuses
 * both, naming where: every error carries the path of the value being read.
 */

export type JsonPath = Array<string | number>;

export type JsonProblem =
  /** Not JSON at all; `detail` says what was expected where. */
  | 'syntax'
  /** The same key twice in one object; the path ends with that key. */
  | 'duplicate-key'
  /** Bytes that are not UTF-8 inside a string (outside strings they are a syntax error). */
  | 'invalid-utf8'
  /** A raw control character (U+0000-U+001F) inside a string, which JSON does not allow. */
  | 'control-character';

export class StrictJsonError extends Error {
  constructor(
    readonly problem: JsonProblem,
    readonly path: JsonPath,
    /** Byte offset in the input, from 0. */
    readonly offset: number,
    /** What was wrong, never quoting the input: it may be secret. */
    readonly detail: string,
  ) {
    super(`${detail} (at byte ${offset}${path.length ? `, in ${formatJsonPath(path)}` : ''})`);
    this.name = 'StrictJsonError';
  }
}

/** Deeper nesting is refused rather than risking the stack; settings nest a handful of levels. */
export const MAX_JSON_DEPTH = 64;

/** `['a', 0, 'b']` -> `a[0].b`. */
export function formatJsonPath(path: JsonPath): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

/** Parses one JSON value from UTF-8 bytes (a leading BOM is the caller's to strip). */
export function parseStrictJson(input: Uint8Array | string): unknown {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const reader = new Reader(bytes);
  reader.skipWhitespace();
  const value = reader.value([], 0);
  reader.skipWhitespace();
  if (reader.offset < bytes.length) reader.fail('syntax', [], 'text after the end of the JSON value');
  return value;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

class Reader {
  offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  fail(problem: JsonProblem, path: JsonPath, detail: string, at = this.offset): never {
    throw new StrictJsonError(problem, path, at, detail);
  }

  skipWhitespace(): void {
    while (this.offset < this.bytes.length) {
      const byte = this.bytes[this.offset]!;
      if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return;
      this.offset += 1;
    }
  }

  value(path: JsonPath, depth: number): unknown {
    if (depth > MAX_JSON_DEPTH) this.fail('syntax', path, `values nested deeper than ${MAX_JSON_DEPTH} levels`);
    const byte = this.bytes[this.offset];
    if (byte === undefined) this.fail('syntax', path, 'the end of the text where a value was expected');
    if (byte === 0x7b) return this.object(path, depth);
    if (byte === 0x5b) return this.array(path, depth);
    if (byte === 0x22) return this.string(path);
    if (byte === 0x2d || (byte >= 0x30 && byte <= 0x39)) return this.number(path);
    if (this.literal('true')) return true;
    if (this.literal('false')) return false;
    if (this.literal('null')) return null;
    return this.fail('syntax', path, `${describeByte(byte)} where a value was expected`);
  }

  private object(path: JsonPath, depth: number): Record<string, unknown> {
    this.offset += 1;
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    this.skipWhitespace();
    if (this.bytes[this.offset] === 0x7d) {
      this.offset += 1;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.bytes[this.offset] !== 0x22) this.fail('syntax', path, `${this.describeHere()} where a key in double quotes was expected`);
      const keyOffset = this.offset;
      const key = this.string(path);
      if (seen.has(key))
        this.fail('duplicate-key', [...path, key], `the key ${JSON.stringify(key)} a second time in one object`, keyOffset);
      seen.add(key);
      this.skipWhitespace();
      this.expect(0x3a, [...path, key], "':' after a key");
      this.skipWhitespace();
      const item = this.value([...path, key], depth + 1);
      // An own property even for "__proto__", as JSON.parse makes it.
      Object.defineProperty(result, key, { value: item, writable: true, enumerable: true, configurable: true });
      this.skipWhitespace();
      if (this.bytes[this.offset] === 0x2c) {
        this.offset += 1;
        continue;
      }
      this.expect(0x7d, path, "',' or '}' after a value in an object");
      return result;
    }
  }

  private array(path: JsonPath, depth: number): unknown[] {
    this.offset += 1;
    const result: unknown[] = [];
    this.skipWhitespace();
    if (this.bytes[this.offset] === 0x5d) {
      this.offset += 1;
      return result;
    }
    for (;;) {
      this.skipWhitespace();
      result.push(this.value([...path, result.length], depth + 1));
      this.skipWhitespace();
      if (this.bytes[this.offset] === 0x2c) {
        this.offset += 1;
        continue;
      }
      this.expect(0x5d, path, "',' or ']' after a value in an array");
      return result;
    }
  }

  private string(path: JsonPath): string {
    this.offset += 1;
    let result = '';
    let runStart = this.offset;
    const flush = (end: number) => {
      if (end === runStart) return;
      try {
        result += decoder.decode(this.bytes.subarray(runStart, end));
      } catch {
        this.fail(
          'invalid-utf8',
          path,
          `bytes that are not valid UTF-8 (${this.invalidUtf8At(runStart, end)})`,
          this.firstInvalidUtf8(runStart, end),
        );
      }
    };
    for (;;) {
      const byte = this.bytes[this.offset];
      if (byte === undefined) this.fail('syntax', path, 'the end of the text inside a string');
      if (byte === 0x22) {
        flush(this.offset);
        this.offset += 1;
        return result;
      }
      if (byte < 0x20)
        this.fail(
          'control-character',
          path,
          `a raw control character U+${byte.toString(16).toUpperCase().padStart(4, '0')} inside a string`,
        );
      if (byte !== 0x5c) {
        this.offset += 1;
        continue;
      }
      flush(this.offset);
      const escape = this.bytes[this.offset + 1];
      if (escape === 0x75) {
        const hex = Buffer.from(this.bytes.subarray(this.offset + 2, this.offset + 6)).toString('latin1');
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) this.fail('syntax', path, 'a \\u escape without four hexadecimal digits');
        result += String.fromCharCode(parseInt(hex, 16));
        this.offset += 6;
      } else if (escape !== undefined && ESCAPES[escape] !== undefined) {
        result += ESCAPES[escape];
        this.offset += 2;
      } else {
        this.fail(
          'syntax',
          path,
          `an unknown escape ${escape === undefined ? 'at the end of the text' : `\\${describeByte(escape)}`} inside a string`,
        );
      }
      runStart = this.offset;
    }
  }

  private number(path: JsonPath): number {
    const start = this.offset;
    const text = Buffer.from(this.bytes.subarray(start, Math.min(this.bytes.length, start + 400))).toString('latin1');
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text);
    if (!match) this.fail('syntax', path, 'a number that is not written as JSON numbers are');
    const after = this.bytes[start + match[0].length];
    if (after !== undefined && /[0-9A-Za-z.+-]/.test(String.fromCharCode(after)))
      this.fail('syntax', path, 'a number that is not written as JSON numbers are');
    this.offset += match[0].length;
    return Number(match[0]);
  }

  private literal(word: string): boolean {
    for (let index = 0; index < word.length; index++) {
      if (this.bytes[this.offset + index] !== word.charCodeAt(index)) return false;
    }
    this.offset += word.length;
    return true;
  }

  private expect(byte: number, path: JsonPath, what: string): void {
    if (this.bytes[this.offset] !== byte) this.fail('syntax', path, `${this.describeHere()} where ${what} was expected`);
    this.offset += 1;
  }

  private describeHere(): string {
    const byte = this.bytes[this.offset];
    return byte === undefined ? 'the end of the text' : describeByte(byte);
  }

  /** The offset of the first byte that does not start a valid UTF-8 sequence in [start, end). */
  private firstInvalidUtf8(start: number, end: number): number {
    let offset = start;
    while (offset < end) {
      const length = validSequenceLength(this.bytes, offset, end);
      if (length === 0) return offset;
      offset += length;
    }
    return end;
  }

  private invalidUtf8At(start: number, end: number): string {
    const at = this.firstInvalidUtf8(start, end);
    const shown = Array.from(
      this.bytes.subarray(at, Math.min(end, at + 4)),
      (byte) => `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    );
    return `${shown.join(' ')} at byte ${at}`;
  }
}

/** Length of the well-formed UTF-8 sequence at `offset` (Unicode table 3-7), or 0. */
function validSequenceLength(bytes: Uint8Array, offset: number, end: number): number {
  const first = bytes[offset]!;
  if (first < 0x80) return 1;
  const continuation = (index: number, low = 0x80, high = 0xbf) =>
    offset + index < end && bytes[offset + index]! >= low && bytes[offset + index]! <= high;
  if (first >= 0xc2 && first <= 0xdf) return continuation(1) ? 2 : 0;
  if (first === 0xe0) return continuation(1, 0xa0) && continuation(2) ? 3 : 0;
  if ((first >= 0xe1 && first <= 0xec) || first === 0xee || first === 0xef) return continuation(1) && continuation(2) ? 3 : 0;
  if (first === 0xed) return continuation(1, 0x80, 0x9f) && continuation(2) ? 3 : 0;
  if (first === 0xf0) return continuation(1, 0x90) && continuation(2) && continuation(3) ? 4 : 0;
  if (first >= 0xf1 && first <= 0xf3) return continuation(1) && continuation(2) && continuation(3) ? 4 : 0;
  if (first === 0xf4) return continuation(1, 0x80, 0x8f) && continuation(2) && continuation(3) ? 4 : 0;
  return 0;
}

/** A byte named without quoting the text around it: printable ASCII as itself, others in hex. */
function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `the byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}
