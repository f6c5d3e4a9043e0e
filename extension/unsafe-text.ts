/**
 * Characters that must never reach a status, a history line, an event or task XML as they are:
 * control characters (C0, DEL, C1), line and paragraph separators, invisible formatting characters
 * (bidirectional overrides, isolates and marks among them) and lone surrogates. Raw, they let a
 * received value start a new line in a log, reorder what a reader sees or hide text, so an audit
 * record could show something other than what was sent. Received text holding one is refused;
 * text shown in a message has them escaped as \uXXXX.
 */

/** One of the characters above; `u` makes a lone surrogate one code point of class Cs. */
export const UNSAFE_CHARACTER_CLASS = '\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Cs}';
/**
 * Built on first use: a class of Unicode properties costs V8 about half a millisecond to build,
 * and most text (every log line of a run that changes nothing) is printable ASCII, of which no
 * character is in the class (its ASCII members are the C0 controls and DEL).
 */
let unsafe: { one: RegExp; all: RegExp } | undefined;
const unsafePatterns = () =>
  (unsafe ??= { one: new RegExp(`[${UNSAFE_CHARACTER_CLASS}]`, 'u'), all: new RegExp(`[${UNSAFE_CHARACTER_CLASS}]`, 'gu') });
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** What the refusal says is accepted, in words an owner reads. */
export const SAFE_TEXT_DESCRIPTION =
  'text without control characters, line or paragraph separators (U+2028, U+2029), invisible formatting characters ' +
  'such as bidirectional overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F), or lone surrogates, ' +
  'because such text could make the history, the event log or the status show something other than what was sent';

export interface UnsafeCharacter {
  /** Position in code points (what an editor shows as the column), from 1. */
  position: number;
  codePoint: number;
  kind: string;
}

/** The first unsafe character of `text`, or undefined when there is none. */
export function findUnsafeCharacter(text: string): UnsafeCharacter | undefined {
  if (PRINTABLE_ASCII.test(text)) return undefined;
  const { one } = unsafePatterns();
  if (!one.test(text)) return undefined;
  let position = 0;
  for (const character of text) {
    position += 1;
    if (one.test(character)) {
      const codePoint = character.codePointAt(0)!;
      return { position, codePoint, kind: kindOf(codePoint) };
    }
  }
  return undefined;
}

/** "U+202E (a bidirectional formatting character) at character 4". */
export function describeUnsafeCharacter(found: UnsafeCharacter): string {
  return `${codePointName(found.codePoint)} (${found.kind}) at character ${found.position}`;
}

/** `text` with every unsafe character written as \uXXXX (UTF-16 units, as JSON writes them). */
export function escapeUnsafe(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text;
  return text.replace(unsafePatterns().all, (character) =>
    Array.from({ length: character.length }, (_, index) => `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`).join(''),
  );
}

export function codePointName(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

function kindOf(codePoint: number): string {
  if (codePoint === 0) return 'a NUL character';
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f)) return 'a control character';
  if (codePoint === 0x2028) return 'a line separator';
  if (codePoint === 0x2029) return 'a paragraph separator';
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return 'a lone surrogate';
  if (isBidirectionalFormatting(codePoint)) return 'a bidirectional formatting character';
  return 'an invisible formatting character';
}

function isBidirectionalFormatting(codePoint: number): boolean {
  return (
    codePoint === 0x061c ||
    codePoint === 0x200e ||
    codePoint === 0x200f ||
    (codePoint >= 0x202a && codePoint <= 0x202e) ||
    (codePoint >= 0x2066 && codePoint <= 0x2069)
  );
}
