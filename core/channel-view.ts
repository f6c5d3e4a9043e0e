/**
 * What the owner sees of the channel (`agent status`, Get-RemoteSupportAccess, the extension's
 * substatus): the state the agent wrote to CHANNEL_STATUS_FILE, taken as the truth only when it
 * is about the channel of the grant in force. A file left by another grant, or one that claims a
 * listener while no grant with a channel is in force, is stale: the agent that wrote it is gone
 * or has not caught up, and saying "connected" from it would be a lie.
 */
import { describeChannelStatus, parseChannelStatus, type ChannelConnection, type ChannelStatus } from './channel-status';
import type { DesiredRecord } from './desired-record';
import type { NodeChannel } from './node-channel';
import { CHANNEL_STATUS_FILE } from './node-layout';
import { grantInForce } from './node-intent';

export interface ChannelReading {
  /** The channel of the grant in force; null when no grant is in force or it has none. */
  channel: NodeChannel | null;
  /** The agent's state for that channel; null when it has reported none for it. */
  status: ChannelStatus | null;
  /** Why the file on the node was not taken as the channel's state; null when it was, or says nothing. */
  disregarded: string | null;
}

/** Reads the status file's text against the record: see ChannelReading. */
export function readChannelState(record: DesiredRecord, now: Date, statusText: string | null): ChannelReading {
  const grant = grantInForce(record, now);
  const channel = grant && record.channel?.grantId === grant.grantId ? record.channel : null;
  const status = parseChannelStatus(statusText);
  if (!channel) {
    // "stopped" is what the agent writes as it exits; any other state claims a listener.
    const stale =
      status && status.connection !== 'stopped'
        ? `${CHANNEL_STATUS_FILE} says the channel is ${status.connection}${status.grantId ? ` for grant ${status.grantId}` : ''} (written ${status.updatedAt}), but no grant with a channel is in force: that state is stale, not the node's. The agent stops listening within seconds of a grant's end, and the Reconcile task removes the Channel task and ends leftover session processes.`
        : null;
    return { channel: null, status: null, disregarded: stale };
  }
  if (status && status.grantId !== channel.grantId)
    return {
      channel,
      status: null,
      disregarded: `not reported for this grant yet: ${CHANNEL_STATUS_FILE} is stale, from ${status.grantId ? `grant ${status.grantId}` : 'no grant'} (written ${status.updatedAt})`,
    };
  return { channel, status, disregarded: null };
}

/** The connection as Azure Local shows one: Disconnected, Connecting, Connected, or Refused:<the relay's HTTP status>. */
export function connectionStatusName(connection: ChannelConnection, httpStatus: number | null): string {
  switch (connection) {
    case 'connected':
      return 'Connected';
    case 'connecting':
      return 'Connecting';
    case 'refused':
      return httpStatus === null ? 'Refused' : `Refused:${httpStatus}`;
    case 'disconnected':
    case 'stopped':
      return 'Disconnected';
  }
}

/** For a channel in force: its state (disconnected while the agent has reported none), and one line for people. */
export function channelConnection(reading: ChannelReading): {
  connection: ChannelConnection;
  connectionStatus: string;
  detail: string;
} {
  const { status } = reading;
  if (!status)
    return {
      connection: 'disconnected',
      connectionStatus: 'Disconnected',
      detail: reading.disregarded ?? 'not reported yet: the channel agent has written no readable status on this node',
    };
  return {
    connection: status.connection,
    connectionStatus: connectionStatusName(status.connection, status.httpStatus),
    detail: status.detail,
  };
}

/** "channel connected since ... (1 session open)", or why it is not known, for a substatus. */
export function describeChannelReading(reading: ChannelReading): string {
  if (reading.status) return describeChannelStatus(reading.status);
  return `channel ${channelConnection(reading).detail}`;
}

/** "Channel: connected since ... (1 session open)." for the plain status line. */
export function channelSentence(reading: ChannelReading): string {
  const said = describeChannelReading(reading)
    .replace(/^channel /, '')
    .replace(/\.$/, '');
  return `Channel: ${said}.`;
}
