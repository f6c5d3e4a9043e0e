/**
 * Streaming redaction of secrets in text logs. The stream holds back its last HOLD characters
 * (unredacted) until more text or the end arrives, so a secret split across chunks is always seen
 * whole; a match that still touches the held text waits too. A private key block whose end has
 * not come after MAX_PENDING characters is redacted to the end of what is held and everything
 * after it is dropped until its END line: the stream fails closed, and its memory stays bounded.
 */
import { StringDecoder } from 'string_decoder';
import { Transform, type TransformCallback } from 'stream';

export const REDACTION_KINDS = ['privateKey', 'sasSignature', 'accountKey', 'bearerToken', 'jwt', 'password'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];
export type RedactionCounts = Partial<Record<RedactionKind, number>>;

export const REDACTED_TEXT = '[redacted]';
/** A PEM boundary line, built here so that no tracked file carries one that secret scanners would take for a key. */
const pemLine = (edge: 'BEGIN' | 'END') => `-----${edge} PRIVATE KEY-----`;

interface Pattern {
  kind: RedactionKind;
  regex: RegExp;
  /** The replacement: a kept prefix (the key name) and the marker. */
  replace: (match: RegExpExecArray) => string;
}

const keepGroup = (match: RegExpExecArray) => `${match[1]}${REDACTED_TEXT}`;

/** Most specific first: at one position the earlier pattern wins. */
const PATTERNS: Pattern[] = [
  {
    kind: 'privateKey',
    // `$` (no m flag): a block whose END line has not arrived runs to the end of the text.
    regex: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: () => `${pemLine('BEGIN')}${REDACTED_TEXT}${pemLine('END')}`,
  },
  { kind: 'accountKey', regex: /\b((?:AccountKey|SharedAccessKey)\s{0,8}=\s{0,8})[^;&\s"'<>]+/gi, replace: keepGroup },
  { kind: 'sasSignature', regex: /(\bsig=)[A-Za-z0-9%+/=_-]+/gi, replace: keepGroup },
  { kind: 'bearerToken', regex: /(\bBearer\s{1,8})[A-Za-z0-9\-._~+/]{16,}=*/gi, replace: keepGroup },
  { kind: 'jwt', regex: /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, replace: () => REDACTED_TEXT },
  {
    kind: 'password',
    regex: /((?:"|')(?:password|passwd|pwd|clientSecret|client_secret)(?:"|')\s{0,8}:\s{0,8}")(?:[^"\\\n]|\\.){0,4096}"/gi,
    replace: (match) => `${match[1]}${REDACTED_TEXT}"`,
  },
  { kind: 'password', regex: /(\b(?:password|passwd|pwd)\s{0,8}=\s{0,8})[^;&\s"'<>]+/gi, replace: keepGroup },
];

/** Characters held back: longer than any secret the patterns match whole (a JWT, a key block). */
export const HOLD = 64 * 1024;
/** A match that has held back more than this is forced out redacted. */
export const MAX_PENDING = 1024 * 1024;

interface Match {
  kind: RedactionKind;
  start: number;
  end: number;
  replacement: string;
}

/** The leftmost match at or after `from` (the earlier pattern on a tie). */
function nextMatch(text: string, from: number): Match | null {
  let best: Match | null = null;
  for (const pattern of PATTERNS) {
    pattern.regex.lastIndex = from;
    const match = pattern.regex.exec(text);
    if (!match || match[0].length === 0) continue;
    if (!best || match.index < best.start) {
      best = { kind: pattern.kind, start: match.index, end: match.index + match[0].length, replacement: pattern.replace(match) };
    }
  }
  return best;
}

export interface RedactOptions {
  /**
   * The text starts inside a file (a kept tail): base64 lines ending in a key's END line at its
   * very start are the rest of a private key block and are redacted.
   */
  startsMidFile?: boolean;
}

/** What follows a secret that was forced out before its end: dropped until it ends. */
const CONTINUATION: Record<RedactionKind, RegExp> = {
  privateKey: /^[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----/,
  sasSignature: /^[A-Za-z0-9%+/=_-]*/,
  accountKey: /^[^;&\s"'<>]*/,
  bearerToken: /^[A-Za-z0-9\-._~+/=]*/,
  jwt: /^[A-Za-z0-9_.-]*/,
  password: /^(?:[^"\\\n;&\s'<>]|\\.)*"?/,
};
const KEY_REST_AT_START = /^(?:[ \t]*[A-Za-z0-9+/=]*[ \t]*\r?\n)*?[ \t]*-----END [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * The redaction state over one text: `write` returns what is final so far, `end` the rest. Memory
 * is bounded by MAX_PENDING plus one chunk.
 */
export class SecretRedactor {
  readonly counts: RedactionCounts = {};
  private pending = '';
  private atStart: boolean;
  /** The kind of a secret forced out before its end: its rest is dropped. */
  private continuing: RedactionKind | null = null;

  constructor(options: RedactOptions = {}) {
    this.atStart = options.startsMidFile === true;
  }

  write(text: string): string {
    this.pending += text;
    return this.process(false);
  }

  end(): string {
    return this.process(true);
  }

  private count(kind: RedactionKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  private process(final: boolean): string {
    if (this.continuing && !this.dropContinuation(final)) return '';
    if (this.atStart) {
      if (!final && this.pending.length < HOLD) return '';
      this.atStart = false;
      const rest = KEY_REST_AT_START.exec(this.pending);
      if (rest) {
        this.count('privateKey');
        this.pending = `${REDACTED_TEXT}${pemLine('END')}${this.pending.slice(rest[0].length)}`;
      }
    }
    const text = this.pending;
    // Text before `cut` is final; after it, held for the next chunk.
    let cut = final ? text.length : Math.max(0, text.length - HOLD);
    let out = '';
    let position = 0;
    for (let match = nextMatch(text, 0); match && match.start < cut; match = nextMatch(text, position)) {
      if (match.end > cut) {
        // It may still grow: wait for more text, unless it has waited too long.
        if (text.length - match.start <= MAX_PENDING) {
          cut = match.start;
          break;
        }
        cut = match.end;
        if (match.end === text.length) this.continuing = match.kind;
      }
      this.count(match.kind);
      out += text.slice(position, match.start) + match.replacement;
      position = match.end;
    }
    out += text.slice(position, Math.max(position, cut));
    this.pending = text.slice(cut);
    return out;
  }

  /** Drops the rest of a forced-out secret; true once it ended. */
  private dropContinuation(final: boolean): boolean {
    const kind = this.continuing!;
    const rest = CONTINUATION[kind].exec(this.pending);
    if (kind === 'privateKey' && !rest) {
      // No END line yet: keep enough to see one split across chunks.
      this.pending = final ? '' : this.pending.slice(-64);
      if (final) this.continuing = null;
      return final;
    }
    const length = rest![0].length;
    const ended = kind === 'privateKey' || length < this.pending.length || final;
    this.pending = this.pending.slice(length);
    if (ended) this.continuing = null;
    return ended;
  }
}

/** A Transform (bytes in, UTF-8 out) that redacts secrets and counts them per kind. */
export class RedactingStream extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private readonly redactor: SecretRedactor;

  constructor(options: RedactOptions = {}) {
    super();
    this.redactor = new SecretRedactor(options);
  }

  get counts(): RedactionCounts {
    return this.redactor.counts;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const out = this.redactor.write(this.decoder.write(chunk));
    if (out) this.push(out);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const out = this.redactor.write(this.decoder.end()) + this.redactor.end();
    if (out) this.push(out);
    callback();
  }
}

/** Redacts a whole text, with the counts. */
export function redactText(text: string, options: RedactOptions = {}): { text: string; counts: RedactionCounts } {
  const redactor = new SecretRedactor(options);
  const out = redactor.write(text) + redactor.end();
  return { text: out, counts: redactor.counts };
}
