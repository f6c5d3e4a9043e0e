/**
 * The channel's state on a node, as the agent writes it (CHANNEL_STATUS_FILE) and status reads it:
 * disconnected, connecting, connected, refused with the relay's code, or stopped and why. Written
 * by the running agent only; a file older than its own `staleAfter` means the agent is gone.
 */
export type ChannelConnection = 'stopped' | 'disconnected' | 'connecting' | 'connected' | 'refused';

export interface ChannelStatus {
  connection: ChannelConnection;
  /** One line for people: "connected since ...", "refused (401 unauthorized): ...", "stopped: no grant in force". */
  detail: string;
  /** The relay's HTTP status when refused. */
  httpStatus: number | null;
  lastError: string | null;
  grantId: string | null;
  hybridConnection: string | null;
  openSessions: number;
  /** ISO 8601: when the agent wrote this. */
  updatedAt: string;
  /** The agent's process id while it runs. */
  processId: number | null;
}

export function serializeChannelStatus(status: ChannelStatus): string {
  return `${JSON.stringify(status, null, 2)}\n`;
}

/** The status file, or null when it is missing or unreadable (nothing is claimed then). */
export function parseChannelStatus(text: string | null): ChannelStatus | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<ChannelStatus>;
    const connections: ChannelConnection[] = ['stopped', 'disconnected', 'connecting', 'connected', 'refused'];
    if (
      !connections.includes(value.connection as ChannelConnection) ||
      typeof value.detail !== 'string' ||
      typeof value.updatedAt !== 'string'
    )
      return null;
    return {
      connection: value.connection as ChannelConnection,
      detail: value.detail,
      httpStatus: typeof value.httpStatus === 'number' ? value.httpStatus : null,
      lastError: typeof value.lastError === 'string' ? value.lastError : null,
      grantId: typeof value.grantId === 'string' ? value.grantId : null,
      hybridConnection: typeof value.hybridConnection === 'string' ? value.hybridConnection : null,
      openSessions: Number.isInteger(value.openSessions) ? (value.openSessions as number) : 0,
      updatedAt: value.updatedAt,
      processId: Number.isInteger(value.processId) ? (value.processId as number) : null,
    };
  } catch {
    return null;
  }
}

/** "channel connected since ... (1 session open)" for a status line or substatus. */
export function describeChannelStatus(status: ChannelStatus | null): string {
  if (!status) return 'channel: not started';
  const sessions = status.openSessions > 0 ? ` (${status.openSessions} session${status.openSessions === 1 ? '' : 's'} open)` : '';
  return `channel ${status.detail}${sessions}`;
}
