/**
 * The node's Azure Relay listener: one control channel (`sb-hc-action=listen`, Listen token in the
 * `ServiceBusAuthorization` header) that turns `accept` messages into rendezvous the caller accepts
 * or rejects. It keeps the channel alive with pings (no pong in time: treated as dropped), renews its
 * token at 80 % of the token's lifetime, and reconnects with jittered exponential backoff.
 *
 * Never a hot loop: a token the relay refused (401, 403, close 1008) or that has expired is never
 * sent again; the listener then waits for the provider to hand out a different one. A missing,
 * disabled or full hybrid connection (404, 403 EntityDisabled or QuotaExceeded, close 1001) is
 * retried slowly with the same token. The listener also closes its own channel
 * when its token expires, so the end of a grant ends listening even if the relay did not.
 */
import { createHash, randomUUID } from 'crypto';
import type WebSocket from 'ws';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff';
import { listenUrl, type HybridConnectionEndpoint } from './endpoint';
import type { ListenerError, ListenerErrorKind, ListenerState, RefusalReason } from './listener-state';
import { openRelaySocket, type RelayTransport } from './open-socket';
import { redactSecrets } from './redact';
import { RelayConnectError } from './relay-error';
import { acceptRendezvous, parseAcceptMessage, rejectRendezvous } from './rendezvous';
import { sasExpiry } from './sas';
import { systemTimers, type Timers } from './timers';

/** One sender waiting at the relay. Accept or reject it within about 30 s, once. */
export interface Rendezvous {
  /** The relay's id for this connection (the sender's `sb-hc-id` when it gave one). */
  id: string;
  connectHeaders: Record<string, string>;
  accept(): Promise<WebSocket>;
  reject(status: number, description: string): Promise<void>;
}

export interface RelayListenerOptions {
  endpoint: HybridConnectionEndpoint;
  /** The current Listen token; asked before every attempt, at renewal and while waiting for a new one. */
  token: () => string | undefined | Promise<string | undefined>;
  onRendezvous: (rendezvous: Rendezvous) => void;
  onStateChange?: (state: ListenerState) => void;
  transport?: RelayTransport;
  timers?: Timers;
  /** [0, 1), for the backoff jitter. */
  random?: () => number;
  backoff?: BackoffPolicy;
  /** Default 30 s. */
  pingIntervalMs?: number;
  /** Default 10 s. */
  pongTimeoutMs?: number;
  /** Fraction of a token's remaining lifetime after which it is renewed; default 0.8. */
  renewAtFraction?: number;
  /** How often the provider is asked for a new token while the current one is refused; default 30 s. */
  tokenPollMs?: number;
  /**
   * After the relay refused a token (401, 403, close 1008), the soonest a different token is tried;
   * default 30 s, so even a provider that hands out a new bad token every time costs the relay at
   * most two attempts a minute.
   */
  refusedRetryMs?: number;
  /** The retry interval after 404 or close 1001; default the backoff cap (60 s). */
  slowRetryMs?: number;
  /** A connection that lasted this long resets the backoff; default 60 s. */
  stableAfterMs?: number;
  /** Sent as `sb-hc-id` for the relay's logs. */
  trackingId?: string;
  /** Largest accepted rendezvous message; default 1 MiB. */
  rendezvousMaxPayload?: number;
}

const CONTROL_MAX_PAYLOAD = 256 * 1024;
/** setTimeout's limit (about 24.8 days); longer delays fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class RelayListener {
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly backoff: BackoffPolicy;
  private readonly pingIntervalMs: number;
  private readonly pongTimeoutMs: number;
  private readonly renewAtFraction: number;
  private readonly tokenPollMs: number;
  private readonly slowRetryMs: number;
  private readonly refusedRetryMs: number;
  private readonly stableAfterMs: number;
  private readonly transport: RelayTransport;
  private readonly trackingId: string;

  private current: ListenerState = { status: 'disconnected', lastError: null, nextAttemptAt: null };
  private running = false;
  /** Bumped by start and stop: callbacks of an older run are ignored. */
  private generation = 0;
  private attempts = 0;
  private failures = 0;
  private earliestAttemptAt = 0;
  /** Fingerprints of tokens that must never be sent again. */
  private readonly burned = new Set<string>();
  private token: string | undefined;
  private socket: WebSocket | undefined;
  private connectedAt = 0;
  /** Why we ended the channel ourselves, read by the close handler. */
  private ownCloseReason: ListenerError | undefined;
  private attemptTimer: unknown;
  private pollTimer: unknown;
  private pingTimer: unknown;
  private pongTimer: unknown;
  private renewTimer: unknown;
  private expiryTimer: unknown;

  constructor(private readonly options: RelayListenerOptions) {
    this.timers = options.timers ?? systemTimers;
    this.random = options.random ?? Math.random;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.pingIntervalMs = options.pingIntervalMs ?? 30_000;
    this.pongTimeoutMs = options.pongTimeoutMs ?? 10_000;
    this.renewAtFraction = options.renewAtFraction ?? 0.8;
    this.tokenPollMs = options.tokenPollMs ?? 30_000;
    this.slowRetryMs = options.slowRetryMs ?? this.backoff.capMs;
    this.refusedRetryMs = options.refusedRetryMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    this.transport = options.transport ?? {};
    this.trackingId = options.trackingId ?? randomUUID();
    listenUrl(options.endpoint); // validates the endpoint now, not at the first attempt
  }

  get state(): ListenerState {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.generation += 1;
    this.failures = 0;
    this.earliestAttemptAt = 0;
    void this.attempt(this.generation);
  }

  /** Closes the control channel (1000) and stops retrying. Accepted rendezvous sockets belong to the caller. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation += 1;
    this.clearAllTimers();
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState !== socket.CLOSED) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => socket.terminate(), 2000);
        socket.once('close', () => {
          clearTimeout(force);
          resolve();
        });
        socket.close(1000, 'listener stopped');
      });
    }
    this.setState({ status: 'disconnected', lastError: this.current.lastError, nextAttemptAt: null });
  }

  /** Asks the provider for a token now (e.g. after new settings arrived) instead of at the next poll. */
  tokenChanged(): void {
    if (!this.running) return;
    if (this.current.status === 'refused' && this.current.nextAttemptAt === null) void this.pollToken(this.generation);
    const expiry = this.token ? sasExpiry(this.token) : undefined;
    if (this.current.status === 'connected' && this.socket && expiry) void this.renew(this.socket, this.generation, expiry);
  }

  private async attempt(generation: number): Promise<void> {
    if (generation !== this.generation) return;
    this.clearTimer('attemptTimer');
    const token = await this.usableToken(generation);
    if (generation !== this.generation || token === undefined) return;

    this.attempts += 1;
    this.setState({ status: 'connecting', attempt: this.attempts, lastError: this.current.lastError });
    this.earliestAttemptAt = this.timers.now() + this.backoff.baseMs;
    let socket: WebSocket;
    try {
      socket = await openRelaySocket(listenUrl(this.options.endpoint, this.trackingId), {
        transport: this.transport,
        headers: { ServiceBusAuthorization: token },
        maxPayload: CONTROL_MAX_PAYLOAD,
      });
    } catch (error) {
      if (generation !== this.generation) return;
      this.onAttemptFailed(error, token);
      return;
    }
    if (generation !== this.generation) {
      socket.close(1000, 'listener stopped');
      return;
    }
    this.onConnected(socket, token, generation);
  }

  /** The provider's token if it may be sent; otherwise the listener is put in the refused state. */
  private async usableToken(generation: number): Promise<string | undefined> {
    let token: string | undefined;
    try {
      token = await this.options.token();
    } catch (error) {
      if (generation === this.generation) {
        this.refuse('token-missing', null, this.error('token-missing', `The token provider failed: ${(error as Error).message}`));
      }
      return undefined;
    }
    if (generation !== this.generation) return undefined;
    if (!token) {
      this.refuse('token-missing', null, this.error('token-missing', 'No Listen token is available for the relay.'));
      return undefined;
    }
    if (this.burned.has(fingerprint(token))) {
      // Still the token that was refused: keep waiting for another one.
      if (this.current.status !== 'refused') {
        this.refuse(
          'token-rejected',
          null,
          this.error('token-rejected', 'The Listen token was refused before and will not be sent again; waiting for a new one.'),
        );
      } else {
        this.setState({ ...this.current, nextAttemptAt: null });
        this.schedulePoll(generation);
      }
      return undefined;
    }
    const expiry = sasExpiry(token);
    if (!expiry) {
      this.burned.add(fingerprint(token));
      this.refuse(
        'token-missing',
        null,
        this.error('token-missing', 'The Listen token is not a SharedAccessSignature token; it was not sent.'),
      );
      return undefined;
    }
    if (expiry.getTime() <= this.timers.now()) {
      this.burned.add(fingerprint(token));
      this.refuse(
        'token-expired',
        null,
        this.error('token-expired', `The Listen token expired at ${expiry.toISOString()}; it was not sent.`),
      );
      return undefined;
    }
    return token;
  }

  private onAttemptFailed(error: unknown, token: string): void {
    const failure =
      error instanceof RelayConnectError
        ? error
        : new RelayConnectError('network', redactSecrets(String((error as Error)?.message ?? error)));
    const lastError = this.error(failure.kind, failure.message, { httpStatus: failure.status });
    this.failures += 1;
    if (failure.kind === 'unauthorized' || failure.kind === 'forbidden') {
      this.burned.add(fingerprint(token));
      this.holdOffAfterRefusal();
      this.refuse(failure.kind, failure.status ?? null, lastError);
      return;
    }
    if (failure.kind === 'no-endpoint' || failure.kind === 'disabled' || failure.kind === 'quota-exceeded') {
      // The entity, not the token: keep the token and retry slowly.
      this.refuse(failure.kind, failure.status ?? null, lastError, this.slowRetryMs);
      return;
    }
    this.retryAfter(backoffDelay(this.failures, this.backoff, this.random), lastError);
  }

  private onConnected(socket: WebSocket, token: string, generation: number): void {
    this.socket = socket;
    this.token = token;
    this.connectedAt = this.timers.now();
    this.ownCloseReason = undefined;
    this.setState({ status: 'connected', since: this.iso(this.connectedAt), lastError: this.current.lastError });

    socket.on('message', (data, isBinary) => {
      if (isBinary || generation !== this.generation) return;
      const accept = parseAcceptMessage(data.toString());
      if (accept) this.deliver(accept.address, accept.id, accept.connectHeaders);
    });
    socket.on('pong', () => this.clearTimer('pongTimer'));
    socket.once('close', (code) => this.onClosed(socket, code, generation));

    this.schedulePing(socket, generation);
    this.scheduleRenewal(socket, generation);
  }

  private deliver(address: string, id: string, connectHeaders: Record<string, string>): void {
    const transport = this.transport;
    const maxPayload = this.options.rendezvousMaxPayload;
    let used = false;
    const once = <T>(use: () => Promise<T>): Promise<T> => {
      if (used) return Promise.reject(new Error(`Rendezvous ${id}: already accepted or rejected; an address works once.`));
      used = true;
      return use();
    };
    const rendezvous: Rendezvous = {
      id,
      connectHeaders,
      accept: () => once(() => acceptRendezvous(address, transport, maxPayload)),
      reject: (status, description) => once(() => rejectRendezvous(address, status, description, transport)),
    };
    try {
      this.options.onRendezvous(rendezvous);
    } catch {
      // The caller's handler failing must not take the control channel down; the sender times out.
    }
  }

  private onClosed(socket: WebSocket, code: number, generation: number): void {
    if (this.socket === socket) this.socket = undefined;
    this.clearTimer('pingTimer');
    this.clearTimer('pongTimer');
    this.clearTimer('renewTimer');
    this.clearTimer('expiryTimer');
    if (generation !== this.generation || !this.running) return;

    if (this.timers.now() - this.connectedAt >= this.stableAfterMs) this.failures = 0;
    this.failures += 1;
    const own = this.ownCloseReason;
    this.ownCloseReason = undefined;
    const token = this.token;

    if (own?.kind === 'token-expired' || code === 1008) {
      if (token) this.burned.add(fingerprint(token));
      this.holdOffAfterRefusal();
      const lastError =
        own ??
        this.error('token-rejected', 'The relay closed the control channel (1008): the Listen token expired or its renewal was refused.', {
          closeCode: 1008,
        });
      this.refuse(own ? 'token-expired' : 'token-rejected', null, lastError);
      return;
    }
    if (code === 1001) {
      const lastError = this.error(
        'closed',
        'The relay closed the control channel (1001): the hybrid connection was deleted or disabled.',
        { closeCode: 1001 },
      );
      this.retryAfter(Math.max(this.slowRetryMs, backoffDelay(this.failures, this.backoff, this.random)), lastError);
      return;
    }
    const lastError =
      own ??
      this.error('closed', `The relay closed the control channel (${code}${code === 1011 ? ': relay error' : ''}).`, { closeCode: code });
    this.retryAfter(backoffDelay(this.failures, this.backoff, this.random), lastError);
  }

  private schedulePing(socket: WebSocket, generation: number): void {
    this.pingTimer = this.timers.setTimeout(() => {
      if (generation !== this.generation || this.socket !== socket) return;
      this.pongTimer = this.timers.setTimeout(() => {
        if (this.socket !== socket) return;
        this.ownCloseReason = this.error(
          'ping-timeout',
          `No pong from the relay within ${this.pongTimeoutMs} ms: the control channel was dropped.`,
        );
        socket.terminate();
      }, this.pongTimeoutMs);
      try {
        socket.ping();
      } catch {
        // A socket already closing reports through 'close'.
      }
      this.schedulePing(socket, generation);
    }, this.pingIntervalMs);
  }

  /** Renews at 80 % of the current token's remaining life, and closes the channel itself at expiry. */
  private scheduleRenewal(socket: WebSocket, generation: number): void {
    this.clearTimer('renewTimer');
    this.clearTimer('expiryTimer');
    const expiry = this.token ? sasExpiry(this.token) : undefined;
    if (!expiry) return;
    const remaining = expiry.getTime() - this.timers.now();
    this.scheduleExpiry(socket, expiry);
    this.renewTimer = this.timers.setTimeout(
      () => void this.renew(socket, generation, expiry),
      Math.min(MAX_TIMER_MS, Math.max(0, remaining * this.renewAtFraction)),
    );
  }

  private scheduleExpiry(socket: WebSocket, expiry: Date): void {
    const remaining = expiry.getTime() - this.timers.now();
    this.expiryTimer = this.timers.setTimeout(
      () => {
        if (this.socket !== socket) return;
        // Timers are capped near 24 days: a longer token is checked again then.
        if (this.timers.now() < expiry.getTime()) return this.scheduleExpiry(socket, expiry);
        this.ownCloseReason = this.error(
          'token-expired',
          `The Listen token expired at ${expiry.toISOString()} and was not renewed; the control channel was closed.`,
        );
        socket.close(1000, 'token expired');
      },
      Math.min(MAX_TIMER_MS, Math.max(0, remaining)),
    );
  }

  private async renew(socket: WebSocket, generation: number, expiry: Date): Promise<void> {
    this.clearTimer('renewTimer');
    let next: string | undefined;
    try {
      next = await this.options.token();
    } catch {
      next = undefined;
    }
    if (generation !== this.generation || this.socket !== socket) return;
    const nextExpiry = next ? sasExpiry(next) : undefined;
    if (next && nextExpiry && next !== this.token && !this.burned.has(fingerprint(next)) && nextExpiry.getTime() > expiry.getTime()) {
      socket.send(JSON.stringify({ renewToken: { token: next } }));
      this.token = next;
      this.scheduleRenewal(socket, generation);
      return;
    }
    // Nothing newer yet: ask again before the current token runs out.
    const remaining = expiry.getTime() - this.timers.now();
    if (remaining > 0) {
      this.renewTimer = this.timers.setTimeout(
        () => void this.renew(socket, generation, expiry),
        Math.max(Math.min(remaining / 2, this.tokenPollMs), Math.min(remaining, 250)),
      );
    }
  }

  private holdOffAfterRefusal(): void {
    this.earliestAttemptAt = this.timers.now() + Math.max(this.refusedRetryMs, backoffDelay(this.failures, this.backoff, this.random));
  }

  private refuse(reason: RefusalReason, httpStatus: number | null, lastError: ListenerError, retryInMs?: number): void {
    const generation = this.generation;
    if (retryInMs !== undefined) {
      const at = this.timers.now() + retryInMs;
      this.setState({ status: 'refused', reason, httpStatus, lastError, nextAttemptAt: this.iso(at) });
      this.attemptTimer = this.timers.setTimeout(() => void this.attempt(generation), retryInMs);
      return;
    }
    this.setState({ status: 'refused', reason, httpStatus, lastError, nextAttemptAt: null });
    this.schedulePoll(generation);
  }

  private schedulePoll(generation: number): void {
    this.clearTimer('pollTimer');
    this.pollTimer = this.timers.setTimeout(() => void this.pollToken(generation), this.tokenPollMs);
  }

  /** While refused for a token reason: a different, unexpired token starts a new attempt (no sooner than the backoff allows). */
  private async pollToken(generation: number): Promise<void> {
    this.clearTimer('pollTimer');
    let token: string | undefined;
    try {
      token = await this.options.token();
    } catch {
      token = undefined;
    }
    if (generation !== this.generation || this.current.status !== 'refused' || this.current.nextAttemptAt !== null) return;
    const expiry = token ? sasExpiry(token) : undefined;
    if (!token || !expiry || this.burned.has(fingerprint(token)) || expiry.getTime() <= this.timers.now()) {
      this.schedulePoll(generation);
      return;
    }
    const wait = Math.max(0, this.earliestAttemptAt - this.timers.now());
    this.setState({ ...this.current, nextAttemptAt: this.iso(this.timers.now() + wait) });
    this.attemptTimer = this.timers.setTimeout(() => void this.attempt(generation), wait);
  }

  private retryAfter(delayMs: number, lastError: ListenerError): void {
    const generation = this.generation;
    this.setState({ status: 'disconnected', lastError, nextAttemptAt: this.iso(this.timers.now() + delayMs) });
    this.attemptTimer = this.timers.setTimeout(() => void this.attempt(generation), delayMs);
  }

  private error(kind: ListenerErrorKind, message: string, extra: { httpStatus?: number; closeCode?: number } = {}): ListenerError {
    const result: ListenerError = { kind, message: redactSecrets(message, [this.token]), at: this.iso(this.timers.now()) };
    if (extra.httpStatus !== undefined) result.httpStatus = extra.httpStatus;
    if (extra.closeCode !== undefined) result.closeCode = extra.closeCode;
    return result;
  }

  private setState(state: ListenerState): void {
    this.current = Object.freeze(state) as ListenerState;
    try {
      this.options.onStateChange?.(this.current);
    } catch {
      // Status reporting must not break the channel.
    }
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  private clearTimer(name: 'attemptTimer' | 'pollTimer' | 'pingTimer' | 'pongTimer' | 'renewTimer' | 'expiryTimer'): void {
    if (this[name] !== undefined) this.timers.clearTimeout(this[name]);
    this[name] = undefined;
  }

  private clearAllTimers(): void {
    for (const name of ['attemptTimer', 'pollTimer', 'pingTimer', 'pongTimer', 'renewTimer', 'expiryTimer'] as const) this.clearTimer(name);
  }
}
