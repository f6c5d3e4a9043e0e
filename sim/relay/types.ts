/**
 * The test relay's public types: what the channel's tests code against (agreed with the relay
 * client's engineer; see issue 11).
 */

export type RelayRight = 'Listen' | 'Send' | 'Manage';

export interface TestRelayOptions {
  /** How long a sender waits for a listener to accept, and how long an accept address lives (default 30000). */
  rendezvousTimeoutMs?: number;
  /** Drop a listener's control channel, without a close frame, when nothing (frame, ping, pong) arrives for this long. 0 = never (default). */
  idleTimeoutMs?: number;
  /** Listeners per hybrid connection (default 25, the service's quota). */
  maxListeners?: number;
}

export interface AuthorizationRule {
  name: string;
  rights: RelayRight[];
  primaryKey: string;
  secondaryKey?: string;
}

/** No hybridConnection: a rule at namespace scope, valid for every hybrid connection. */
export interface RuleScope {
  hybridConnection?: string;
}

export interface TestRelayFaults {
  /** The next `count` listen attempts are refused with `status`, before any other check. */
  refuseNextListens(count: number, status: 500 | 401 | 403): void;
  /**
   * Every open socket (control channels, rendezvous pairs, waiting senders) stops being read and
   * answered, without a close frame or FIN: pings go unanswered, as on a half-open connection.
   * The relay forgets them, so they no longer count as listeners or pairs.
   */
  dropSilently(): void;
  /** Closes every listener's control channel with 1011 (something went wrong in the service). */
  closeListenersWith(code: 1011): void;
  /** Delay before the relay sends a listener the `accept` message (default 0). */
  slowAcceptMs: number;
}

export interface TestRelayCounters {
  /** Every upgrade asking for sb-hc-action=listen, refused or not. */
  readonly listenAttempts: number;
  /** Date.now() of each listen attempt, oldest first (a copy). */
  readonly listenAttemptTimes: number[];
  openListeners(name?: string): number;
  openPairs(name?: string): number;
  /** Rendezvous that became a relayed pair since the start. */
  readonly pairsMade: number;
}

export interface TestRelay {
  /** '127.0.0.1:<port>': the namespace host clients dial (wss://<host>/$hc/<name>). */
  host: string;
  /** 'wss://127.0.0.1:<port>' */
  url: string;
  /** PEM of the throwaway CA that signed the relay's certificate. */
  caPem: string;
  /** The same CA as a file, for NODE_EXTRA_CA_CERTS. */
  caFile: string;
  createHybridConnection(name: string, options?: { requiresClientAuthorization?: boolean }): void;
  /** Closes its listeners and rendezvous sockets with 1001; waiting senders get 404. */
  deleteHybridConnection(name: string): void;
  /** Disabling closes like deleting; a disabled hybrid connection refuses listeners and senders with 403. */
  setDisabled(name: string, disabled: boolean): void;
  /** Adds a rule, or replaces the rule of that name in that scope (new keys). */
  putRule(scope: RuleScope, rule: AuthorizationRule): void;
  faults: TestRelayFaults;
  counters: TestRelayCounters;
  close(): Promise<void>;
}
