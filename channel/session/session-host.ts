/**
 * One engineer's session on the node, independent of the transport and of PowerShell: it reads the
 * hello, verifies the ticket before the executor is ever called, answers ready with the grant's
 * level (never the ticket's), then runs one command at a time within the rate limit, streaming
 * output, until the engineer leaves, the session expires, or the agent calls `end` (revoke). The
 * audit callback receives a `ready` entry, one `command` entry per command that ran and one `end`
 * entry (a refused session has only the `end` entry). Nothing it sends, records or
 * throws contains the ticket.
 */
import { randomUUID, type KeyObject } from 'crypto';
import type { GrantLevel } from '../../core/desired-state';
import { systemTimers, type Timers } from '../relay/timers';
import type { JtiStore } from './jti-store';
import {
  CLOSE_CODES,
  COMMANDS_PER_WINDOW,
  HELLO_TIMEOUT_MS,
  OUTPUT_CHUNK_CHARS,
  RATE_WINDOW_MS,
  chunkOutput,
  parseEngineerFrame,
  serializeFrame,
  type CommandRejection,
  type EndReason,
  type FrameError,
  type NodeFrame,
  type OutputStream,
  type SessionRefusal,
} from './protocol';
import type { SessionSlots } from './session-slots';
import { TokenBucket } from './token-bucket';
import { verifyTicket, type TicketVerdict } from './ticket';

type HelloVerdict = TicketVerdict | { ok: false; reason: 'node-error'; message: string };

/** The socket a session runs over: a rendezvous WebSocket in the agent, a fake in tests. */
export interface SessionSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  onMessage(listener: (data: string | Uint8Array, isBinary: boolean) => void): void;
  onClose(listener: () => void): void;
}

export interface CommandResult {
  ok: boolean;
  /** Shown to the engineer when ok is false. */
  error?: string;
}

/** Runs one command in the grant's JEA session; stops soon after `signal` aborts. */
export interface CommandExecutor {
  run(command: string, onOutput: (stream: OutputStream, text: string) => void, signal: AbortSignal): Promise<CommandResult>;
}

/** The grant in force on this node: the only source of the session's level. */
export interface SessionGrant {
  grantId: string;
  level: GrantLevel;
  expiresAt: Date;
  machine: string;
  node: string;
  ticketPublicKey: KeyObject;
}

export type CommandOutcome = 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export type SessionAuditEntry =
  | {
      event: 'ready';
      sessionId: string;
      relayConnectionId: string;
      grantId: string;
      machine: string;
      node: string;
      engineer: string;
      ticketId: string;
      level: GrantLevel;
      startedAt: string;
      readyAt: string;
      expiresAt: string;
      notes: string[];
    }
  | {
      event: 'command';
      sessionId: string;
      id: string;
      command: string;
      startedAt: string;
      endedAt: string;
      outcome: CommandOutcome;
      error?: string;
      outputBytes: number;
    }
  | {
      event: 'end';
      sessionId: string;
      relayConnectionId: string;
      grantId: string;
      engineer: string | null;
      ticketId: string | null;
      level: GrantLevel | null;
      startedAt: string;
      endedAt: string;
      reason: EndReason | 'refused';
      refusal?: SessionRefusal;
      detail: string;
      commandsRun: number;
      commandsRejected: Partial<Record<CommandRejection, number>>;
      notes: string[];
    };

export interface SessionHostOptions {
  socket: SessionSocket;
  executor: CommandExecutor;
  grant: SessionGrant;
  seen: JtiStore;
  /** The grant's session slots, shared by all its sessions. */
  slots: SessionSlots;
  /** The relay's id of this connection (Rendezvous.id). */
  relayConnectionId: string;
  audit: (entry: SessionAuditEntry) => void;
  timers?: Timers;
  newSessionId?: () => string;
}

export type SessionState = 'awaiting-hello' | 'verifying' | 'ready' | 'ended';

/** What the engineer is told per refusal; the record keeps the node-side detail. */
const REFUSAL_TEXT: Record<SessionRefusal, string> = {
  malformed: 'The ticket is not a well-formed signed ticket.',
  'wrong-algorithm': 'The ticket is not signed with EdDSA.',
  'bad-signature': "The ticket's signature does not match this grant.",
  'other-grant': 'The ticket is for another grant.',
  'other-machine': 'The ticket is for another machine.',
  'other-node': 'The ticket is for another node.',
  'not-yet-valid': 'The ticket is not valid yet.',
  expired: 'The ticket has expired; ask for a new one.',
  'outlives-grant': 'The ticket expires after the grant; ask for a new one.',
  reused: 'The ticket was used before; each ticket opens one session. Ask for a new one.',
  'replay-store-unavailable': 'The node cannot record the ticket now; try again later.',
  'hello-expected': 'The first frame must be hello{ticket}, and nothing may follow it before ready.',
  'hello-timeout': `No hello frame arrived within ${HELLO_TIMEOUT_MS / 1000} s.`,
  'too-many-sessions': 'This grant has the most sessions open it allows; close one and connect again.',
  'node-error': 'The node could not check the ticket.',
};

const END_CLOSE_CODE: Record<EndReason, number> = {
  revoked: CLOSE_CODES.normal,
  expired: CLOSE_CODES.normal,
  closed: CLOSE_CODES.normal,
  limit: CLOSE_CODES.policy,
  error: CLOSE_CODES.error,
};

/** setTimeout's limit (about 24.8 days); a later expiry is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface RunningCommand {
  id: string;
  command: string;
  startedAt: number;
  controller: AbortController;
  outputBytes: number;
  cancelled: boolean;
  /** Output given in this turn of the event loop, not sent yet: one `out` frame per stream run. */
  unsent?: { stream: OutputStream; text: string };
}

function closeCodeFor(error: FrameError): number {
  if (error.kind === 'binary') return CLOSE_CODES.binary;
  if (error.kind === 'too-large') return CLOSE_CODES.tooLarge;
  return CLOSE_CODES.policy;
}

export class SessionHost {
  readonly sessionId: string;
  private current: SessionState = 'awaiting-hello';
  private readonly timers: Timers;
  private readonly bucket: TokenBucket;
  private readonly startedAt: number;
  private engineer: string | null = null;
  private ticketId: string | null = null;
  private level: GrantLevel | null = null;
  private expiresAt = 0;
  private readonly notes: string[] = [];
  private commandsRun = 0;
  private readonly commandsRejected: Partial<Record<CommandRejection, number>> = {};
  private running: RunningCommand | undefined;
  private releaseSlot: (() => void) | undefined;
  private socketClosed = false;
  private helloTimer: unknown;
  private expiryTimer: unknown;

  constructor(private readonly options: SessionHostOptions) {
    this.timers = options.timers ?? systemTimers;
    this.sessionId = (options.newSessionId ?? randomUUID)();
    this.bucket = new TokenBucket(COMMANDS_PER_WINDOW, RATE_WINDOW_MS, () => this.timers.now());
    this.startedAt = this.timers.now();
    options.socket.onMessage((data, isBinary) => this.onMessage(data, isBinary));
    options.socket.onClose(() => this.onSocketClosed());
    this.helloTimer = this.timers.setTimeout(() => {
      if (this.current === 'awaiting-hello') this.refuse('hello-timeout', `No hello within ${HELLO_TIMEOUT_MS} ms of the connection.`);
    }, HELLO_TIMEOUT_MS);
  }

  get state(): SessionState {
    return this.current;
  }

  /**
   * Ends the session now: sends `ended{reason}`, starts the close, aborts a running command and
   * gives the slot back, all before returning. Calling it again does nothing.
   */
  end(reason: EndReason, detail = `Ended by the node (${reason}).`): void {
    if (this.current === 'ended') return;
    this.finish({ reason, detail, code: END_CLOSE_CODE[reason] });
  }

  private onMessage(data: string | Uint8Array, isBinary: boolean): void {
    if (this.current === 'ended') return;
    const parsed = parseEngineerFrame(data, isBinary);

    if (this.current === 'awaiting-hello') {
      if (!parsed.ok) {
        const reason = parsed.error.field === 'ticket' ? 'malformed' : 'hello-expected';
        return this.refuse(reason, `First frame refused: ${parsed.error.message}`, closeCodeFor(parsed.error));
      }
      if (parsed.frame.type !== 'hello') return this.refuse('hello-expected', `The first frame was ${parsed.frame.type}, not hello.`);
      void this.verify(parsed.frame.ticket);
      return;
    }
    if (this.current === 'verifying') {
      return this.refuse('hello-expected', 'A frame arrived while the ticket was being checked, before ready.');
    }

    if (!parsed.ok) {
      if (parsed.error.id !== undefined) {
        const reason = parsed.error.kind === 'command-too-long' ? 'command-too-long' : 'bad-command';
        return this.reject(parsed.error.id, reason, parsed.error.message);
      }
      return this.finish({ reason: 'limit', detail: `Frame refused: ${parsed.error.message}`, code: closeCodeFor(parsed.error) });
    }
    const frame = parsed.frame;
    if (frame.type === 'hello') return this.finish({ reason: 'limit', detail: 'A second hello frame.', code: CLOSE_CODES.policy });
    if (frame.type === 'cancel') return this.cancel(frame.id);
    void this.run(frame.id, frame.command);
  }

  private async verify(ticket: string): Promise<void> {
    this.current = 'verifying';
    this.clearTimer('helloTimer');
    const { grant } = this.options;
    let verdict: HelloVerdict;
    try {
      verdict = await verifyTicket(ticket, {
        publicKey: grant.ticketPublicKey,
        grantId: grant.grantId,
        machine: grant.machine,
        node: grant.node,
        now: new Date(this.timers.now()),
        grantExpiresAt: grant.expiresAt,
        seen: this.options.seen,
      });
    } catch (error) {
      verdict = { ok: false, reason: 'node-error', message: `Ticket check failed: ${(error as Error).message}` };
    }
    if (this.current !== 'verifying') return; // ended while the ticket was checked
    if (!verdict.ok) return this.refuse(verdict.reason, verdict.message);

    const { claims, ignoredClaims } = verdict;
    this.engineer = claims.engineer;
    this.ticketId = claims.ticketId;
    const release = this.options.slots.take();
    if (!release) {
      return this.refuse('too-many-sessions', `Grant ${grant.grantId} already has ${this.options.slots.max} open sessions.`);
    }
    this.releaseSlot = release;
    if (ignoredClaims.includes('level')) {
      this.notes.push(`The ticket claimed a level; ignored: the level comes from the grant (${grant.level}).`);
    }
    const others = ignoredClaims.filter((name) => name !== 'level');
    if (others.length > 0) this.notes.push(`The ticket carried claims the node does not use, ignored: ${others.join(', ')}.`);

    this.level = grant.level;
    this.expiresAt = Math.min(grant.expiresAt.getTime(), claims.expiresAt.getTime());
    this.current = 'ready';
    const readyAt = this.timers.now();
    this.armExpiry();
    // Recorded before the engineer hears ready: a session that cannot be recorded does not start.
    this.emit({
      event: 'ready',
      sessionId: this.sessionId,
      relayConnectionId: this.options.relayConnectionId,
      grantId: grant.grantId,
      machine: grant.machine,
      node: grant.node,
      engineer: claims.engineer,
      ticketId: claims.ticketId,
      level: grant.level,
      startedAt: this.iso(this.startedAt),
      readyAt: this.iso(readyAt),
      expiresAt: this.iso(this.expiresAt),
      notes: [...this.notes],
    });
    if (this.current !== 'ready') return;
    this.send({
      type: 'ready',
      level: grant.level,
      sessionId: this.sessionId,
      expiresAt: this.iso(this.expiresAt),
      machine: grant.machine,
      node: grant.node,
    });
  }

  private async run(id: string, command: string): Promise<void> {
    if (this.timers.now() >= this.expiresAt) return this.end('expired', 'A command arrived after the session expired.');
    const wait = this.bucket.take();
    if (wait > 0) {
      return this.reject(id, 'rate-limited', `At most ${COMMANDS_PER_WINDOW} commands per ${RATE_WINDOW_MS / 1000} s; retry later.`, wait);
    }
    if (this.running) {
      return this.reject(id, 'busy', `Command '${this.running.id}' is still running; wait for its done frame or cancel it.`);
    }
    const running: RunningCommand = {
      id,
      command,
      startedAt: this.timers.now(),
      controller: new AbortController(),
      outputBytes: 0,
      cancelled: false,
    };
    this.running = running;
    this.commandsRun += 1;
    let result: CommandResult;
    let failure: string | undefined;
    try {
      result = await this.options.executor.run(command, (stream, text) => this.output(running, stream, text), running.controller.signal);
    } catch (error) {
      failure = `The executor failed: ${(error as Error)?.message ?? String(error)}`;
      result = { ok: false, error: 'The node could not run the command.' };
    }
    if (this.running !== running) return; // the session ended meanwhile and recorded it as interrupted
    this.flushOutput(running);
    if (this.running !== running) return; // sending the output failed and ended the session
    this.running = undefined;
    const outcome: CommandOutcome = running.cancelled ? 'cancelled' : result.ok ? 'succeeded' : 'failed';
    const error = outcome === 'cancelled' ? 'Cancelled by the engineer.' : result.ok ? undefined : (result.error ?? 'The command failed.');
    this.send(error === undefined ? { type: 'done', id, ok: true } : { type: 'done', id, ok: false, error });
    this.recordCommand(running, outcome, failure ?? error);
  }

  /**
   * Output given in one go (a command's lines usually come together) travels in one `out` frame
   * per stream, sent at the end of the current turn: each frame costs a hop through the relay
   * each way, more than the text it carries.
   */
  private output(running: RunningCommand, stream: OutputStream, text: string): void {
    if (this.running !== running || this.current !== 'ready') return;
    const value = String(text);
    running.outputBytes += Buffer.byteLength(value, 'utf8');
    const unsent = running.unsent;
    if (unsent?.stream === stream) unsent.text += value;
    else {
      this.flushOutput(running);
      running.unsent = { stream, text: value };
      queueMicrotask(() => this.flushOutput(running));
    }
    // Never more than a frame's worth waits.
    if (running.unsent!.text.length >= OUTPUT_CHUNK_CHARS) this.flushOutput(running);
  }

  /** Sends the command's unsent output, in order, before anything else is said about it. */
  private flushOutput(running: RunningCommand): void {
    const unsent = running.unsent;
    if (!unsent) return;
    running.unsent = undefined;
    if (this.running !== running || this.current !== 'ready') return;
    for (const chunk of chunkOutput(unsent.text)) this.send({ type: 'out', id: running.id, stream: unsent.stream, text: chunk });
  }

  private cancel(id: string): void {
    if (this.running?.id !== id) return this.reject(id, 'not-running', `No command '${id}' is running.`);
    this.running.cancelled = true;
    this.running.controller.abort();
  }

  private reject(id: string, reason: CommandRejection, message: string, retryAfterMs?: number): void {
    this.commandsRejected[reason] = (this.commandsRejected[reason] ?? 0) + 1;
    this.send(
      retryAfterMs === undefined ? { type: 'rejected', id, reason, message } : { type: 'rejected', id, reason, message, retryAfterMs },
    );
  }

  private refuse(reason: SessionRefusal, detail: string, code: number = CLOSE_CODES.policy): void {
    this.finish({ reason: 'refused', refusal: reason, detail, code });
  }

  private finish(end: { reason: EndReason | 'refused'; refusal?: SessionRefusal; detail: string; code: number }): void {
    if (this.current === 'ended') return;
    // What the command printed goes before the end, as it was given.
    if (this.running) this.flushOutput(this.running);
    // A failed send just now ended the session itself.
    if ((this.current as SessionState) === 'ended') return;
    this.current = 'ended';
    this.clearTimer('helloTimer');
    this.clearTimer('expiryTimer');
    const running = this.running;
    this.running = undefined;
    if (running) running.controller.abort();
    if (!this.socketClosed) {
      this.send(
        end.reason === 'refused'
          ? { type: 'refused', reason: end.refusal!, message: REFUSAL_TEXT[end.refusal!] }
          : { type: 'ended', reason: end.reason },
      );
      this.closeSocket(end.code, end.reason === 'refused' ? `refused: ${end.refusal}` : end.reason);
    }
    this.releaseSlot?.();
    this.releaseSlot = undefined;
    if (running) this.recordCommand(running, 'interrupted', `The session ended (${end.reason}) while the command ran.`);
    const entry: SessionAuditEntry = {
      event: 'end',
      sessionId: this.sessionId,
      relayConnectionId: this.options.relayConnectionId,
      grantId: this.options.grant.grantId,
      engineer: this.engineer,
      ticketId: this.ticketId,
      level: this.level,
      startedAt: this.iso(this.startedAt),
      endedAt: this.iso(this.timers.now()),
      reason: end.reason,
      detail: end.detail,
      commandsRun: this.commandsRun,
      commandsRejected: { ...this.commandsRejected },
      notes: [...this.notes],
    };
    if (end.refusal) entry.refusal = end.refusal;
    this.emit(entry);
  }

  private onSocketClosed(): void {
    this.socketClosed = true;
    if (this.current !== 'ended')
      // The node cannot tell the engineer leaving from the relay closing (a revoke deletes the
      // hybrid connection before the node hears of it): the record says both.
      this.finish({
        reason: 'closed',
        detail: 'The connection closed: the engineer left, or the relay closed it (a revoke deletes the hybrid connection).',
        code: CLOSE_CODES.normal,
      });
  }

  private armExpiry(): void {
    const remaining = this.expiresAt - this.timers.now();
    this.expiryTimer = this.timers.setTimeout(
      () => {
        if (this.timers.now() < this.expiresAt) return this.armExpiry();
        this.end('expired', `The session reached its expiry (${this.iso(this.expiresAt)}).`);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, remaining)),
    );
  }

  private recordCommand(running: RunningCommand, outcome: CommandOutcome, error: string | undefined): void {
    const entry: SessionAuditEntry = {
      event: 'command',
      sessionId: this.sessionId,
      id: running.id,
      command: running.command,
      startedAt: this.iso(running.startedAt),
      endedAt: this.iso(this.timers.now()),
      outcome,
      outputBytes: running.outputBytes,
    };
    if (error !== undefined) entry.error = error;
    this.emit(entry);
  }

  /** A failing send means the socket is gone: the session ends without sending more. */
  private send(frame: NodeFrame): void {
    if (this.socketClosed) return;
    try {
      this.options.socket.send(serializeFrame(frame));
    } catch (error) {
      this.socketClosed = true;
      this.finish({ reason: 'error', detail: `Sending to the engineer failed: ${(error as Error).message}`, code: CLOSE_CODES.error });
    }
  }

  private closeSocket(code: number, reason: string): void {
    try {
      this.options.socket.close(code, reason);
    } catch {
      // Already closed or closing: nothing more to do.
    }
    this.socketClosed = true;
  }

  /** An audit trail that cannot be written ends the session: no unrecorded access. */
  private emit(entry: SessionAuditEntry): void {
    try {
      this.options.audit(entry);
    } catch (error) {
      if (this.current !== 'ended') {
        this.finish({
          reason: 'error',
          detail: `The session record could not be written: ${(error as Error).message}`,
          code: CLOSE_CODES.error,
        });
      }
    }
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  private clearTimer(name: 'helloTimer' | 'expiryTimer'): void {
    if (this[name] !== undefined) this.timers.clearTimeout(this[name]);
    this[name] = undefined;
  }
}
