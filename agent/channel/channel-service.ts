/**
 * `agent channel`: the node's end of the engineers' channel (DESIGN section 8), run by the Channel
 * task while a grant with a channel is in force. It listens on the node's hybrid connection with
 * the stored listen token, hosts each engineer's session (ticket checked before anything runs,
 * commands in the JEA endpoint as the grant's account), and ends every session within a poll
 * interval when the grant ends: revoked (the record changed), expired (its time passed; a timer
 * fires at the expiry too), or changed. Then it stops listening and exits: no listener without a
 * grant. Its state goes to CHANNEL_STATUS_FILE for status and the extension's substatus.
 */
import { randomUUID } from 'crypto';
import { RelayListener, type ListenerState, type RelayTransport, type Rendezvous } from '../../channel/relay';
import { describeListenerState } from '../../channel/relay/listener-state';
import type { Timers } from '../../channel/relay/timers';
import { SessionHost, type SessionAuditEntry, type SessionGrant } from '../../channel/session/session-host';
import { SessionSlots } from '../../channel/session/session-slots';
import { importTicketPublicKey } from '../../channel/session/ticket-key';
import { sessionSocketFromWebSocket } from '../../channel/session/websocket-session-socket';
import type { ChannelStatus } from '../../core/channel-status';
import { serializeChannelStatus } from '../../core/channel-status';
import { parseDesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import type { NodeChannel } from '../../core/node-channel';
import { grantInForce } from '../../core/node-intent';
import {
  CHANNEL_SESSIONS_FOLDER,
  CHANNEL_STATUS_FILE,
  CHANNEL_TOKEN_FILE,
  DESIRED_STATE_FILE,
  ENDPOINT_NAME,
  EVENT_SOURCE,
  USED_TICKETS_FILE,
  channelUserName,
} from '../../core/node-layout';
import {
  serializeSessionRecord,
  sessionEndedEvent,
  sessionRecordPath,
  sessionStartedEvent,
  type SessionCommandRecord,
  type SessionRecord,
} from '../../core/session-record';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { CHANNEL_SESSION_SCRIPT, type JeaSessionLauncher } from '../../windows/jea-session';
import { op, type ProbeResult } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';
import { HostJtiStore } from './host-jti-store';
import { JeaCommandExecutor } from './jea-executor';

export interface ChannelServiceOptions {
  host: WindowsHost;
  sessions: JeaSessionLauncher;
  /** A cheap read of a node file, for the watch (the agent's own read on Windows). */
  readFile: (path: string) => Promise<string | null>;
  /** The node's clock (the simulated machine's in tests). */
  clock: () => Promise<Date>;
  /** How often the grant is checked; default 1 s (sessions end within this of a revoke). */
  pollMs?: number;
  transport?: RelayTransport;
  maxSessionsPerGrant?: number;
  log: (line: string) => void;
  /** Aborted on SIGTERM/SIGINT: sessions end as closed, and the agent exits. */
  signal?: AbortSignal;
}

export interface ChannelRunResult {
  exitCode: number;
  output: string;
}

interface Running {
  host: SessionHost;
  executor: JeaCommandExecutor;
  record: Partial<SessionRecord> & { commands: SessionCommandRecord[] };
}

export async function runChannelService(options: ChannelServiceOptions): Promise<ChannelRunResult> {
  const pollMs = options.pollMs ?? 1000;
  let offsetMs = (await options.clock()).getTime() - Date.now();
  const timers: Timers = {
    now: () => Date.now() + offsetMs,
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
  const now = () => new Date(timers.now());
  const [probeOutcome] = await options.host.execute([op('probe', {})], { phase: 'channel: probe' });
  const node = probeOutcome?.ok ? (probeOutcome.value as ProbeResult).computerName : undefined;
  if (!node) return { exitCode: 1, output: 'channel: the node could not be probed; not listening.' };
  // Session processes left by an agent that was killed: no session of this run exists yet.
  const [orphans] = await options.host.execute([op('endChannelSessionProcesses', { scriptName: CHANNEL_SESSION_SCRIPT })], {
    phase: 'channel: end orphaned sessions',
  });
  const ended = orphans?.ok ? (orphans.value as { ended: number[] }).ended : [];
  if (ended.length > 0) options.log(`channel: ended ${ended.length} session process(es) an earlier agent left: ${ended.join(', ')}.`);

  let runs = 0;
  for (;;) {
    const record = parseDesiredRecord(await options.readFile(DESIRED_STATE_FILE)).record;
    const grant = grantInForce(record, now());
    const channel = grant && record.channel?.grantId === grant.grantId ? record.channel : undefined;
    if (!grant || !channel) {
      const why = !grant ? 'no grant in force' : 'the grant in force has no channel';
      await writeStatus(options.host, stoppedStatus(`stopped: ${why}`, now(), grant?.grantId ?? null));
      return { exitCode: 0, output: `channel: ${why}; not listening${runs ? ' any more' : ''}.` };
    }
    runs += 1;
    const outcome = await listenWhileInForce(options, {
      grant,
      channel,
      node,
      timers,
      now,
      pollMs,
      resync: async () => {
        offsetMs = (await options.clock()).getTime() - Date.now();
      },
    });
    if (outcome === 'signalled') {
      await writeStatus(options.host, stoppedStatus('stopped: the agent was stopped', now(), grant.grantId));
      return { exitCode: 0, output: 'channel: stopped.' };
    }
  }
}

interface InForce {
  grant: Grant;
  channel: NodeChannel;
  node: string;
  timers: Timers;
  now: () => Date;
  pollMs: number;
  resync: () => Promise<void>;
}

/** Listens for this grant until it ends or changes (resolves 'changed') or the agent is stopped. */
async function listenWhileInForce(options: ChannelServiceOptions, context: InForce): Promise<'changed' | 'signalled'> {
  const { grant, channel, node, timers, now } = context;
  const { host, log } = options;
  const account = channelUserName(grant.grantId);
  const sessionGrant: SessionGrant = {
    grantId: grant.grantId,
    level: grant.level,
    expiresAt: grant.expiresAt,
    machine: channel.machine,
    node,
    ticketPublicKey: importTicketPublicKey(channel.ticketPublicKey),
  };
  const seen = new HostJtiStore(host, USED_TICKETS_FILE);
  const slots = new SessionSlots(options.maxSessionsPerGrant);
  const running = new Set<Running>();
  let stopping = false;
  let token = await readToken(host);
  let tokenDigest = channel.listenTokenDigest;

  const status = new StatusWriter(host, () => ({
    grantId: grant.grantId,
    hybridConnection: channel.hybridConnection,
    openSessions: [...running].filter((session) => session.host.state === 'ready').length,
    updatedAt: now().toISOString(),
    processId: process.pid,
  }));

  const listener = new RelayListener({
    endpoint: { namespace: channel.relayNamespace, name: channel.hybridConnection },
    token: () => token,
    onRendezvous: (rendezvous) => void accept(rendezvous),
    onStateChange: (state) => status.update(state),
    ...(options.transport ? { transport: options.transport } : {}),
  });

  async function accept(rendezvous: Rendezvous): Promise<void> {
    if (stopping) return rendezvous.reject(503, 'The grant is ending on this node.').catch(() => undefined);
    let socket;
    try {
      socket = await rendezvous.accept();
    } catch (error) {
      log(`channel: a rendezvous could not be accepted: ${(error as Error).message}`);
      return;
    }
    const sessionId = randomUUID();
    const entry: Running = {
      record: { sessionId, grantId: grant.grantId, account, commands: [], relayConnectionId: rendezvous.id },
      host: undefined as never,
      executor: undefined as never,
    };
    entry.executor = new JeaCommandExecutor(
      options.sessions,
      { userName: account, configurationName: ENDPOINT_NAME, sessionId },
      (reason) => void endedOnNode(entry, reason),
    );
    entry.host = new SessionHost({
      socket: sessionSocketFromWebSocket(socket),
      executor: entry.executor,
      grant: sessionGrant,
      seen,
      slots,
      relayConnectionId: rendezvous.id,
      timers,
      newSessionId: () => sessionId,
      audit: (audit) => void recordAudit(entry, audit),
    });
    running.add(entry);
  }

  /**
   * Why the grant ended, or its channel while it is the same. Revoke and expiry end the session
   * processes and delete the account, which the session may notice before the next poll does.
   */
  async function grantEnding(): Promise<{ reason: 'revoked' | 'expired'; detail: string } | { same: NodeChannel }> {
    await context.resync().catch(() => undefined);
    const record = parseDesiredRecord(await options.readFile(DESIRED_STATE_FILE).catch(() => null)).record;
    const current = grantInForce(record, now());
    const same =
      current &&
      current.grantId === grant.grantId &&
      current.level === grant.level &&
      current.expiresAt.getTime() === grant.expiresAt.getTime() &&
      record.channel?.hybridConnection === channel.hybridConnection &&
      record.channel.relayNamespace === channel.relayNamespace &&
      record.channel.ticketPublicKey === channel.ticketPublicKey;
    if (same) return { same: record.channel! };
    if (now().getTime() >= grant.expiresAt.getTime())
      return { reason: 'expired', detail: `The grant expired at ${grant.expiresAt.toISOString()}.` };
    return { reason: 'revoked', detail: current ? 'The grant was changed on this node.' : 'The grant was revoked on this node.' };
  }

  /** The JEA session ended by itself: the grant's end when it ended, else an error on the node. */
  async function endedOnNode(entry: Running, reason: string): Promise<void> {
    const ending = await grantEnding().catch(() => undefined);
    if (ending && 'reason' in ending) entry.host.end(ending.reason, ending.detail);
    else entry.host.end('error', `The JEA session ended on the node: ${reason}`);
  }

  async function recordAudit(entry: Running, audit: SessionAuditEntry): Promise<void> {
    if (audit.event === 'ready') {
      Object.assign(entry.record, { engineer: audit.engineer, ticketId: audit.ticketId, level: audit.level, startedAt: audit.startedAt });
      status.touch();
      await writeAudit(
        host,
        [op('writeEvent', { source: EVENT_SOURCE, ...sessionStartedEvent({ ...(entry.record as SessionRecord) }) })],
        log,
      );
      return;
    }
    if (audit.event === 'command') {
      const { event: _event, sessionId: _id, ...command } = audit;
      entry.record.commands.push(command);
      return;
    }
    running.delete(entry);
    status.touch();
    // The session process goes before anything is written: ending access never waits on an audit write.
    await entry.executor.close().catch((error: unknown) => log(`channel: session ${audit.sessionId} process: ${(error as Error).message}`));
    const record: SessionRecord = {
      sessionId: audit.sessionId,
      grantId: grant.grantId,
      account,
      engineer: audit.engineer,
      ticketId: audit.ticketId,
      relayConnectionId: audit.relayConnectionId,
      level: audit.level,
      startedAt: audit.startedAt,
      endedAt: audit.endedAt,
      endReason: audit.reason,
      detail: audit.detail,
      ...(audit.refusal ? { refusal: audit.refusal } : {}),
      commands: entry.record.commands,
      commandsRejected: audit.commandsRejected as Record<string, number>,
      processId: await entry.executor.processId,
      transcriptFolder: '',
    };
    await writeAudit(
      host,
      [
        op('ensureDirectory', { path: CHANNEL_SESSIONS_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('writeFile', {
          path: sessionRecordPath(record.sessionId),
          content: serializeSessionRecord(record),
          sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
        }),
        op('writeEvent', { source: EVENT_SOURCE, ...sessionEndedEvent(record) }),
      ],
      log,
    );
  }

  const endAll = async (reason: 'revoked' | 'expired' | 'closed', detail: string) => {
    stopping = true;
    for (const entry of running) entry.host.end(reason, detail);
    await Promise.all([...running].map((entry) => entry.executor.close().catch(() => undefined)));
  };

  listener.start();
  log(`channel: listening on ${channel.relayNamespace}/${channel.hybridConnection} for grant ${grant.grantId} (${grant.level}).`);
  try {
    for (;;) {
      const wake = await sleepUntilNextCheck(context, options.signal);
      if (wake === 'signalled') {
        await endAll('closed', 'The node agent was stopped.');
        return 'signalled';
      }
      const ending = await grantEnding();
      if ('reason' in ending) {
        await endAll(ending.reason, ending.detail);
        return 'changed';
      }
      if (ending.same.listenTokenDigest !== tokenDigest) {
        tokenDigest = ending.same.listenTokenDigest;
        token = await readToken(host);
        listener.tokenChanged();
      }
    }
  } finally {
    stopping = true;
    await listener.stop();
    await status.flush();
  }
}

/** Waits one poll interval, less when the grant's expiry comes sooner; 'signalled' when the agent is stopped. */
function sleepUntilNextCheck(context: InForce, signal: AbortSignal | undefined): Promise<'check' | 'signalled'> {
  if (signal?.aborted) return Promise.resolve('signalled');
  const untilExpiry = context.grant.expiresAt.getTime() - context.timers.now();
  const delay = Math.max(0, Math.min(context.pollMs, untilExpiry));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve('check');
    }, delay);
    const onAbort = () => {
      clearTimeout(timer);
      resolve('signalled');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The stored listen token; undefined when it is missing or cannot be decrypted (the listener then waits, refused). */
async function readToken(host: WindowsHost): Promise<string | undefined> {
  const [read] = await host.execute([op('readSecretFile', { path: CHANNEL_TOKEN_FILE })], { phase: 'channel: read the listen token' });
  return read?.ok ? ((read.value as { secret: string | null }).secret ?? undefined) : undefined;
}

async function writeAudit(
  host: WindowsHost,
  operations: Parameters<WindowsHost['execute']>[0],
  log: (line: string) => void,
): Promise<void> {
  try {
    const results = await host.execute(operations, { phase: 'channel: audit', stopOnError: false });
    for (const result of results) if (!result.ok) log(`channel: audit write failed: ${result.error.message}`);
  } catch (error) {
    log(`channel: audit write failed: ${(error as Error).message}`);
  }
}

function stoppedStatus(detail: string, at: Date, grantId: string | null): ChannelStatus {
  return {
    connection: 'stopped',
    detail,
    httpStatus: null,
    lastError: null,
    grantId,
    hybridConnection: null,
    openSessions: 0,
    updatedAt: at.toISOString(),
    processId: null,
  };
}

async function writeStatus(host: WindowsHost, status: ChannelStatus): Promise<void> {
  await host
    .execute(
      [op('writeFile', { path: CHANNEL_STATUS_FILE, content: serializeChannelStatus(status), sddl: SYSTEM_AND_ADMINISTRATORS_ONLY })],
      {
        phase: 'channel: status',
      },
    )
    .catch(() => undefined);
}

/** Writes the listener's state and the open sessions, one write at a time, the latest state last. */
class StatusWriter {
  private state: ListenerState = { status: 'disconnected', lastError: null, nextAttemptAt: null };
  private pending: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly host: WindowsHost,
    private readonly common: () => Pick<ChannelStatus, 'grantId' | 'hybridConnection' | 'openSessions' | 'updatedAt' | 'processId'>,
  ) {}

  update(state: ListenerState): void {
    this.state = state;
    this.touch();
  }

  touch(): void {
    if (this.dirty) return;
    this.dirty = true;
    this.pending = this.pending.then(async () => {
      this.dirty = false;
      const state = this.state;
      await writeStatus(this.host, {
        connection: state.status,
        detail: describeListenerState(state),
        httpStatus: state.status === 'refused' ? state.httpStatus : null,
        lastError: state.lastError?.message ?? null,
        ...this.common(),
      });
    });
  }

  flush(): Promise<void> {
    return this.pending;
  }
}
