/**
 * The session protocol spoken over one rendezvous socket: JSON objects in WebSocket text frames,
 * each with a `type`. The engineer sends `hello{ticket}`, then `run{id, command}` and
 * `cancel{id}`; the node answers `ready{…}` or `refused{reason, message}`, then `out{…}`…
 * `done{id, ok, error?}` per command, `rejected{id, reason, message}` for a command it will not
 * start, and `ended{reason}` before it closes. Every inbound frame is checked here (binary, size,
 * JSON, type, fields, lengths) and a bad one yields a typed FrameError, never an exception.
 */
import type { GrantLevel } from '../../core/desired-state';
import { MAX_TICKET_CHARS, type TicketRefusal } from './ticket';

/** Largest inbound frame, in UTF-8 bytes. */
export const MAX_INBOUND_FRAME_BYTES = 64 * 1024;
/** Longest command text, in characters. */
export const MAX_COMMAND_CHARS = 16 * 1024;
/** Longest command id, in characters (letters, digits, `.`, `_`, `:` and `-`). */
export const MAX_COMMAND_ID_CHARS = 64;
/**
 * Output text per `out` frame, in characters. Even if every character needed a 6-byte JSON escape
 * the frame stays under MAX_INBOUND_FRAME_BYTES, so the engineer's side can use the same cap.
 */
export const OUTPUT_CHUNK_CHARS = 8 * 1024;
/** Commands a session may start per RATE_WINDOW_MS (a token bucket refilled evenly). */
export const COMMANDS_PER_WINDOW = 10;
export const RATE_WINDOW_MS = 10_000;
/** Open sessions per grant; a further engineer is refused until one ends. */
export const MAX_SESSIONS_PER_GRANT = 2;
/** Time from the socket's opening to the hello frame. */
export const HELLO_TIMEOUT_MS = 10_000;

/**
 * Close codes the node uses. Azure Relay does not pass a listener's close code to the sender (the
 * sender sees 1000), so the `refused` or `ended` frame before the close is what tells the reason.
 */
export const CLOSE_CODES = {
  normal: 1000,
  binary: 1003,
  policy: 1008,
  tooLarge: 1009,
  error: 1011,
} as const;

export type OutputStream = 'output' | 'error' | 'warning' | 'verbose';
export type EndReason = 'revoked' | 'expired' | 'closed' | 'limit' | 'error';
export type SessionRefusal = TicketRefusal | 'hello-expected' | 'hello-timeout' | 'too-many-sessions' | 'node-error';
export type CommandRejection = 'busy' | 'rate-limited' | 'duplicate-id' | 'command-too-long' | 'bad-command' | 'not-running';

export type EngineerFrame =
  { type: 'hello'; ticket: string } | { type: 'run'; id: string; command: string } | { type: 'cancel'; id: string };

export type NodeFrame =
  | { type: 'ready'; level: GrantLevel; sessionId: string; expiresAt: string; machine: string; node: string }
  | { type: 'refused'; reason: SessionRefusal; message: string }
  | { type: 'out'; id: string; stream: OutputStream; text: string }
  | { type: 'done'; id: string; ok: boolean; error?: string }
  | { type: 'rejected'; id: string; reason: CommandRejection; message: string; retryAfterMs?: number }
  | { type: 'ended'; reason: EndReason };

export type FrameErrorKind = 'binary' | 'too-large' | 'not-json' | 'unknown-type' | 'bad-field' | 'unknown-field' | 'command-too-long';

export interface FrameError {
  kind: FrameErrorKind;
  /** The field at fault, for bad-field, unknown-field and command-too-long. */
  field?: string;
  /** The command id, for a run frame whose only fault is its command (bad-field or command-too-long on `command`). */
  id?: string;
  message: string;
}

export type ParseResult<T> = { ok: true; frame: T } | { ok: false; error: FrameError };

const STREAMS: readonly OutputStream[] = ['output', 'error', 'warning', 'verbose'];
const END_REASONS: readonly EndReason[] = ['revoked', 'expired', 'closed', 'limit', 'error'];
const COMMAND_ID = new RegExp(`^[A-Za-z0-9._:-]{1,${MAX_COMMAND_ID_CHARS}}$`);
const utf8 = new TextDecoder('utf-8', { fatal: true });

const fail = (kind: FrameErrorKind, message: string, extra: { field?: string; id?: string } = {}): { ok: false; error: FrameError } => ({
  ok: false,
  error: { kind, message, ...extra },
});

/** A field rule: undefined when the value is acceptable, else what is wrong with it. */
type Rule = (value: unknown) => string | undefined;

const text =
  (max: number, what: string): Rule =>
  (value) =>
    typeof value === 'string' && value.length > 0 && value.length <= max ? undefined : `${what} of 1 to ${max} characters`;
const commandId: Rule = (value) =>
  typeof value === 'string' && COMMAND_ID.test(value) ? undefined : `1 to ${MAX_COMMAND_ID_CHARS} letters, digits, '.', '_', ':' or '-'`;
const oneOf =
  (values: readonly string[]): Rule =>
  (value) =>
    typeof value === 'string' && values.includes(value) ? undefined : `one of ${values.join(', ')}`;
const anyText: Rule = (value) => (typeof value === 'string' ? undefined : 'text');
const bool: Rule = (value) => (typeof value === 'boolean' ? undefined : 'true or false');
const count: Rule = (value) => (Number.isInteger(value) && (value as number) >= 0 ? undefined : 'a whole number, 0 or more');

/** Required and optional fields per frame type. */
type Shape = { required: Record<string, Rule>; optional?: Record<string, Rule> };

const ENGINEER_SHAPES: Record<EngineerFrame['type'], Shape> = {
  hello: { required: { ticket: text(MAX_TICKET_CHARS, 'a ticket') } },
  // The command's length is checked apart, so that its id can be named in the rejection.
  run: { required: { id: commandId, command: anyText } },
  cancel: { required: { id: commandId } },
};

const NODE_SHAPES: Record<NodeFrame['type'], Shape> = {
  ready: {
    required: {
      level: oneOf(['Diagnostics', 'DiagnosticsAndRepair']),
      sessionId: text(128, 'an id'),
      expiresAt: text(64, 'an ISO time'),
      machine: text(256, 'a name'),
      node: text(256, 'a name'),
    },
  },
  refused: { required: { reason: text(64, 'a reason'), message: anyText } },
  out: { required: { id: commandId, stream: oneOf(STREAMS), text: anyText } },
  done: { required: { id: commandId, ok: bool }, optional: { error: anyText } },
  rejected: { required: { id: commandId, reason: text(64, 'a reason'), message: anyText }, optional: { retryAfterMs: count } },
  ended: { required: { reason: oneOf(END_REASONS) } },
};

function decode(data: string | Uint8Array, isBinary: boolean, maxBytes: number): ParseResult<Record<string, unknown>> {
  if (isBinary) return fail('binary', 'Binary frames are not part of the session protocol; send JSON in text frames.');
  const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
  if (bytes > maxBytes) return fail('too-large', `The frame is ${bytes} bytes; the most accepted is ${maxBytes}.`);
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : utf8.decode(data));
  } catch {
    return fail('not-json', 'The frame is not UTF-8 JSON text.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('not-json', 'The frame is not a JSON object.');
  return { ok: true, frame: value as Record<string, unknown> };
}

function check<T>(value: Record<string, unknown>, shapes: Record<string, Shape>): ParseResult<T> {
  const type = value.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(shapes, type)) {
    return fail(
      'unknown-type',
      `Frame type ${JSON.stringify(type ?? null).slice(0, 40)} is not one of ${Object.keys(shapes).join(', ')}.`,
      {
        field: 'type',
      },
    );
  }
  const shape = shapes[type]!;
  for (const field of Object.keys(value)) {
    if (field !== 'type' && !(field in shape.required) && !(shape.optional && field in shape.optional)) {
      return fail('unknown-field', `A ${type} frame has no field '${field.slice(0, 40)}'.`, { field: field.slice(0, 40) });
    }
  }
  for (const [field, rule] of Object.entries(shape.required)) {
    const problem = rule(value[field]);
    if (problem) return fail('bad-field', `${type}.${field} must be ${problem}.`, { field });
  }
  for (const [field, rule] of Object.entries(shape.optional ?? {})) {
    const problem = value[field] === undefined ? undefined : rule(value[field]);
    if (problem) return fail('bad-field', `${type}.${field} must be ${problem}.`, { field });
  }
  return { ok: true, frame: value as T };
}

/** The node reads every engineer frame through this. */
export function parseEngineerFrame(data: string | Uint8Array, isBinary: boolean): ParseResult<EngineerFrame> {
  const decoded = decode(data, isBinary, MAX_INBOUND_FRAME_BYTES);
  if (!decoded.ok) return decoded;
  const parsed = check<EngineerFrame>(decoded.frame, ENGINEER_SHAPES);
  if (!parsed.ok || parsed.frame.type !== 'run') return parsed;
  const { id, command } = parsed.frame;
  if (command.length > MAX_COMMAND_CHARS) {
    return fail('command-too-long', `run.command has ${command.length} characters; the most accepted is ${MAX_COMMAND_CHARS}.`, {
      field: 'command',
      id,
    });
  }
  if (command.trim() === '' || command.includes('\u0000')) {
    return fail('bad-field', 'run.command must be PowerShell text: not blank, without NUL characters.', { field: 'command', id });
  }
  return parsed;
}

/** The engineer's side reads every node frame through this (same size cap: `out` text is chunked). */
export function parseNodeFrame(data: string | Uint8Array, isBinary: boolean): ParseResult<NodeFrame> {
  const decoded = decode(data, isBinary, MAX_INBOUND_FRAME_BYTES);
  return decoded.ok ? check<NodeFrame>(decoded.frame, NODE_SHAPES) : decoded;
}

export function serializeFrame(frame: NodeFrame | EngineerFrame): string {
  return JSON.stringify(frame);
}

/** Splits output into OUTPUT_CHUNK_CHARS pieces without cutting a surrogate pair in two. */
export function chunkOutput(output: string): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (start < output.length) {
    let end = Math.min(start + OUTPUT_CHUNK_CHARS, output.length);
    const last = output.charCodeAt(end - 1);
    if (end < output.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(output.slice(start, end));
    start = end;
  }
  return chunks;
}
