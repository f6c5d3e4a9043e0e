/**
 * The engineer's side of a session: dial the node's hybrid connection with a Send token, present
 * the ticket, and run one command at a time with streamed output. Used by `connect` and the tests.
 * The node decides the level; `ready` says which. An `ended` frame (revoke, expiry) or a close
 * settles `ended` with the reason; a command running then settles as not ok.
 */
import type WebSocket from 'ws';
import type { HybridConnectionEndpoint } from '../relay/endpoint';
import type { RelayTransport } from '../relay/open-socket';
import { connectSender } from '../relay/sender';
import { parseNodeFrame, serializeFrame, type EndReason, type NodeFrame, type OutputStream } from './protocol';

export type ReadyFrame = Extract<NodeFrame, { type: 'ready' }>;

export interface EngineerSessionOptions {
  endpoint: HybridConnectionEndpoint;
  sendToken: string;
  ticket: string;
  transport?: RelayTransport;
  /** How long to wait for ready after the hello; default 30 s. */
  readyTimeoutMs?: number;
}

export interface EngineerCommandResult {
  ok: boolean;
  error?: string;
  /** Set when the node would not start it (busy, rate-limited...). */
  rejected?: string;
}

export interface SessionEnd {
  reason: EndReason | 'refused' | 'connection-closed';
  message: string;
}

/** The node refused the session (its reason and message) or it ended before ready. */
export class SessionRefusedError extends Error {
  override readonly name = 'SessionRefusedError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

export class EngineerSession {
  readonly ended: Promise<SessionEnd>;
  /** Resolves when the connection has closed (after `ended` when the node ends the session). */
  readonly closed: Promise<void>;
  private settleEnd!: (end: SessionEnd) => void;
  private running:
    { id: string; onOutput: (stream: OutputStream, text: string) => void; resolve: (result: EngineerCommandResult) => void } | undefined;
  private commands = 0;
  private endedWith: SessionEnd | undefined;

  private constructor(
    private readonly socket: WebSocket,
    readonly ready: ReadyFrame,
  ) {
    this.ended = new Promise((resolve) => (this.settleEnd = resolve));
    this.closed = new Promise((resolve) => (socket.readyState === socket.CLOSED ? resolve() : socket.once('close', () => resolve())));
  }

  static async open(options: EngineerSessionOptions): Promise<EngineerSession> {
    const socket = await connectSender({
      endpoint: options.endpoint,
      token: options.sendToken,
      ...(options.transport ? { transport: options.transport } : {}),
    });
    const first = await new Promise<NodeFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new SessionRefusedError('timeout', 'The node did not answer the ticket in time.'));
      }, options.readyTimeoutMs ?? 30_000);
      socket.once('message', (data, isBinary) => {
        clearTimeout(timer);
        const parsed = parseNodeFrame(Buffer.from(data as Buffer), isBinary);
        if (!parsed.ok)
          return reject(new SessionRefusedError('bad-frame', `The node sent a frame this client cannot read: ${parsed.error.message}`));
        resolve(parsed.frame);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new SessionRefusedError('connection-closed', 'The connection closed before the node answered the ticket.'));
      });
      socket.send(serializeFrame({ type: 'hello', ticket: options.ticket }));
    });
    if (first.type === 'refused') {
      socket.close();
      throw new SessionRefusedError(first.reason, first.message);
    }
    if (first.type !== 'ready') {
      socket.close();
      throw new SessionRefusedError(first.type, `The node answered the ticket with ${first.type}, not ready.`);
    }
    const session = new EngineerSession(socket, first);
    session.listen();
    return session;
  }

  /** Runs one command; output arrives through onOutput as the node streams it. */
  run(command: string, onOutput: (stream: OutputStream, text: string) => void): Promise<EngineerCommandResult> {
    if (this.endedWith) return Promise.resolve({ ok: false, error: `The session has ended: ${this.endedWith.message}` });
    if (this.running) return Promise.resolve({ ok: false, rejected: 'busy', error: 'A command is already running; one at a time.' });
    this.commands += 1;
    const id = `c${this.commands}`;
    return new Promise((resolve) => {
      this.running = { id, onOutput, resolve };
      this.socket.send(serializeFrame({ type: 'run', id, command }));
    });
  }

  /** Cancels the running command (the session stays open). */
  cancel(): void {
    if (this.running) this.socket.send(serializeFrame({ type: 'cancel', id: this.running.id }));
  }

  close(): void {
    this.socket.close(1000, 'engineer closed the session');
  }

  private listen(): void {
    this.socket.on('message', (data, isBinary) => {
      const parsed = parseNodeFrame(Buffer.from(data as Buffer), isBinary);
      if (!parsed.ok) return;
      const frame = parsed.frame;
      const running = this.running;
      if (frame.type === 'out' && running?.id === frame.id) running.onOutput(frame.stream, frame.text);
      else if (frame.type === 'done' && running?.id === frame.id) {
        this.running = undefined;
        running.resolve({ ok: frame.ok, ...(frame.error ? { error: frame.error } : {}) });
      } else if (frame.type === 'rejected' && running?.id === frame.id) {
        this.running = undefined;
        running.resolve({ ok: false, rejected: frame.reason, error: frame.message });
      } else if (frame.type === 'ended') this.finish({ reason: frame.reason, message: describeEnd(frame.reason) });
    });
    this.socket.on('close', () => this.finish({ reason: 'connection-closed', message: 'The connection closed.' }));
  }

  private finish(end: SessionEnd): void {
    if (this.endedWith) return;
    this.endedWith = end;
    const running = this.running;
    this.running = undefined;
    running?.resolve({ ok: false, error: `The session ended: ${end.message}` });
    this.settleEnd(end);
  }
}

function describeEnd(reason: EndReason): string {
  switch (reason) {
    case 'revoked':
      return "The machine's owner revoked access.";
    case 'expired':
      return 'The grant expired.';
    case 'closed':
      return 'The node closed the session.';
    case 'limit':
      return 'The session broke a limit of the protocol.';
    case 'error':
      return 'The node ended the session after an error.';
  }
}
