/**
 * `status [--json] [--include-expired]`: the access in force. Plain, one line for a person;
 * with --json, for the owner's module (Get-RemoteSupportAccess): the access in force, the record,
 * the grants to show with their state and engineers, and warnings about the record or about
 * access that no grant accounts for. --include-expired adds the recorded grant after it ended
 * and the past grants from the history. Both say how the channel of the grant in force is
 * connected, from the agent's channel status file (core/channel-view.ts: a stale file is named so,
 * never taken as the truth); that file is not essential, and a failed read of it only says so.
 */
import { readHistory } from '../core/access-history';
import { accessView, type GrantView } from '../core/access-view';
import { channelConnection, channelSentence, readChannelState, type ChannelReading } from '../core/channel-view';
import { parseDesiredRecord, serializeDesiredRecord } from '../core/desired-record';
import { formatUtc } from '../core/desired-state';
import { CHANNEL_STATUS_FILE, DESIRED_STATE_FILE, GROUPS, HISTORY_FILE, LOG_COLLECTIONS_FOLDER } from '../core/node-layout';
import { LOG_COLLECTION_RECORD_FILE_NAME, parseLogCollectionRecord, type LogCollectionRecord } from '../core/log-collection-record';
import { grantInForce } from '../core/node-intent';
import { op } from '../windows/operations';
import type { OperationOutcome, WindowsHost } from '../windows/port';
import { parseOptions } from './arguments';
import type { AgentResult } from './commands';
import { asciiJson, jsonTime } from './json-output';

export async function statusCommand(argv: string[], host: WindowsHost, now: Date): Promise<AgentResult> {
  const options = parseOptions('status', argv, { flags: ['--json', '--include-expired'] });
  if ('problem' in options) return { exitCode: 2, output: options.problem };
  const withHistory = options.flags.has('--include-expired');
  const outcomes = await host.execute(
    [
      op('readFile', { path: DESIRED_STATE_FILE }),
      op('getLocalGroup', { name: GROUPS.diagnostics }),
      op('getLocalGroup', { name: GROUPS.repair }),
      ...(withHistory ? [op('readFile', { path: HISTORY_FILE })] : []),
      op('readFile', { path: CHANNEL_STATUS_FILE }),
    ],
    { phase: 'status', stopOnError: false },
  );
  const channelRead = outcomes.pop();
  const failed = outcomes.find((outcome) => !outcome.ok);
  // Without the record or the groups the answer would be a guess: say what could not be read.
  if (failed && !failed.ok)
    return {
      exitCode: 1,
      output: `status: could not read ${failed.error.target ?? failed.error.operation}: ${failed.error.code}: ${failed.error.message}`,
    };

  const { record, problem } = parseDesiredRecord(fileContent(outcomes[0]));
  const grant = grantInForce(record, now);
  const channel = withUnread(readChannelState(record, now, fileContent(channelRead)), channelRead);
  const lastCollection = await lastLogCollection(host);
  if (!options.flags.has('--json')) {
    const access = grant
      ? `Access: ${grant.level} for support request ${grant.supportRequestId} until ${formatUtc(grant.expiresAt)}.`
      : 'Access: none.';
    const collection = lastCollection
      ? ` Last log collection: ${lastCollection.collectionId} ${lastCollection.outcome} at ${lastCollection.endedAt}.`
      : '';
    return { exitCode: 0, output: `${channel.channel ? `${access} ${channelSentence(channel)}` : access}${collection}` };
  }
  const members = { diagnostics: membersOf(outcomes[1]), repair: membersOf(outcomes[2]) };
  const view = accessView({ record, now, members, history: withHistory ? readHistory(fileContent(outcomes[3])) : undefined });
  const warnings = [
    ...(problem ? [`${DESIRED_STATE_FILE}: ${problem}`] : []),
    ...view.unrecordedAccess.map(
      (access) =>
        `No grant is in force, but '${access.group}' still has members: ${access.members.join(', ')}. The Reconcile task removes them; Disable-RemoteSupport removes them now.`,
    ),
    ...(channel.disregarded && !channel.channel ? [channel.disregarded] : []),
  ];
  const connection = channel.channel ? channelConnection(channel) : null;
  const report = {
    now: formatUtc(now),
    access: grant
      ? {
          level: grant.level,
          grantId: grant.grantId,
          supportRequestId: grant.supportRequestId,
          expiresAt: formatUtc(grant.expiresAt),
          consent: {
            termsVersion: grant.consent.termsVersion,
            acceptedAt: formatUtc(grant.consent.acceptedAt),
            acceptedBy: grant.consent.acceptedBy,
          },
        }
      : null,
    // What the agent converges to: no grant when the file is missing or unreadable (fail closed).
    record: JSON.parse(serializeDesiredRecord(record)),
    problem: problem ?? null,
    grants: view.grants.map((entry) => ({
      ...grantJson(entry),
      // The connection belongs to the grant in force only: a past grant's channel is gone.
      ...(entry.state === 'Active' && connection && entry.grantId === channel.channel?.grantId
        ? { connectionStatus: connection.connectionStatus, connectionDetail: connection.detail }
        : { connectionStatus: null, connectionDetail: null }),
    })),
    channel:
      channel.channel && connection
        ? {
            relayNamespace: channel.channel.relayNamespace,
            hybridConnection: channel.channel.hybridConnection,
            connection: connection.connection,
            connectionStatus: connection.connectionStatus,
            detail: connection.detail,
            httpStatus: channel.status?.httpStatus ?? null,
            lastError: channel.status?.lastError ?? null,
            openSessions: channel.status?.openSessions ?? 0,
            updatedAt: channel.status?.updatedAt ?? null,
          }
        : null,
    lastLogCollection: lastCollection
      ? {
          collectionId: lastCollection.collectionId,
          trigger: lastCollection.trigger,
          consent: lastCollection.consent,
          outcome: lastCollection.outcome,
          endedAt: lastCollection.endedAt,
          window: lastCollection.window,
          categories: lastCollection.categories,
          blobName: lastCollection.blobName,
          bundleBytes: lastCollection.bundleBytes,
          fileCount: lastCollection.fileCount,
          detail: lastCollection.detail,
        }
      : null,
    warnings,
  };
  return { exitCode: 0, output: asciiJson(report) };
}

function grantJson(grant: GrantView) {
  return {
    ...grant,
    expiresAt: jsonTime(grant.expiresAt),
    acceptedAt: jsonTime(grant.acceptedAt),
    endedAt: jsonTime(grant.endedAt),
  };
}

/** A status file that could not be read tells nothing about a channel in force: it says so instead of guessing. */
function withUnread(reading: ChannelReading, read: OperationOutcome | undefined): ChannelReading {
  if (!reading.channel || !read || read.ok) return reading;
  return {
    ...reading,
    status: null,
    disregarded: `not known: ${CHANNEL_STATUS_FILE} could not be read (${read.error.code}: ${read.error.message})`,
  };
}

function fileContent(outcome: OperationOutcome | undefined): string | null {
  return outcome?.ok ? ((outcome.value as { content: string | null }).content ?? null) : null;
}

function membersOf(outcome: OperationOutcome | undefined): string[] {
  return outcome?.ok ? ((outcome.value as { members?: string[] }).members ?? []) : [];
}

/** The log collection that ended last, from its records; null when none (or none readable). */
async function lastLogCollection(host: WindowsHost): Promise<LogCollectionRecord | null> {
  const [listing] = await host.execute([op('listDirectory', { path: LOG_COLLECTIONS_FOLDER })], {
    phase: 'status: log collections',
    stopOnError: false,
  });
  const names = listing?.ok
    ? (listing.value as { entries: Array<{ name: string; type: string }> }).entries
        .filter((entry) => entry.type === 'file' && LOG_COLLECTION_RECORD_FILE_NAME.test(entry.name))
        .map((entry) => entry.name)
    : [];
  if (names.length === 0) return null;
  const reads = await host.execute(
    names.map((name) => op('readFile', { path: `${LOG_COLLECTIONS_FOLDER}\\${name}` })),
    { phase: 'status: log collection records', stopOnError: false },
  );
  const records = reads
    .map((read) => parseLogCollectionRecord(fileContent(read) ?? ''))
    .filter((record): record is LogCollectionRecord => record !== null);
  return records.sort((a, b) => Date.parse(b.endedAt) - Date.parse(a.endedAt))[0] ?? null;
}
