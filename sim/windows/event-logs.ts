/**
 * A simulated node's event log channels and their export (exportEventLog). The Application log is
 * the node's `events` (writeEvent writes there); the other channels it has are `eventLogs`.
 * Semantics:
 * - the channel must be a plain channel name, the query eventLogQuery's shape (a window of UTC
 *   times), the path a `.evtx` file directly in EXPORTED_LOGS_FOLDER: else InvalidRequest; that
 *   folder must exist (NotFound);
 * - a channel the node does not have -> `present: false`, nothing written;
 * - else the channel's events created inside the window (both ends included, as the XPath's >=
 *   and <=), oldest first, replace the file. The content is the simulated machine's own rendering,
 *   one JSON object per event and line: it is NOT the evtx format wevtutil writes on Windows.
 */
import { CHANNEL_NAME_PATTERN } from '../../diag/sources';
import { windowOfEventLogQuery } from '../../diag/reader';
import { EXPORTED_LOGS_FOLDER, type OperationCatalog } from '../../windows/operations';
import { writeFile, type NodeContext } from './file-system';
import type { EventRecord, NodeModel } from './machine-model';
import { sameName } from './names';
import { OperationFailure } from './operation-failure';
import { leafName, parentOf, parseWindowsPath } from './windows-path';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

/** The channel's events, or null when the node does not have it. */
export function channelEvents(node: NodeModel, channel: string): EventRecord[] | null {
  if (sameName(channel, 'Application')) return node.events;
  const name = Object.keys(node.eventLogs ?? {}).find((known) => sameName(known, channel));
  return name === undefined ? null : node.eventLogs![name]!;
}

export function exportEventLog(ctx: NodeContext, request: Request<'exportEventLog'>): Result<'exportEventLog'> {
  const { channel, query } = request;
  if (!CHANNEL_NAME_PATTERN.test(channel)) {
    throw new OperationFailure('InvalidRequest', `'${channel}' is not an event log channel name`, channel);
  }
  const window = windowOfEventLogQuery(query);
  if (!window) throw new OperationFailure('InvalidRequest', `The query for ${channel} is not a window of UTC times: '${query}'`, channel);
  const path = parseWindowsPath(request.path);
  const folder = path ? parentOf(path) : null;
  if (!path || !folder || !sameName(folder.text, EXPORTED_LOGS_FOLDER) || !/^[A-Za-z0-9_-]+\.evtx$/i.test(leafName(path))) {
    throw new OperationFailure(
      'InvalidRequest',
      `The export path '${request.path}' is not a .evtx file directly in '${EXPORTED_LOGS_FOLDER}'`,
      request.path,
    );
  }
  const events = channelEvents(ctx.node, channel);
  if (!events) return { present: false, size: 0 };
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  const lines = events
    .filter((event) => Date.parse(event.timeUtc) >= from && Date.parse(event.timeUtc) <= to)
    .sort((a, b) => Date.parse(a.timeUtc) - Date.parse(b.timeUtc))
    .map((event) =>
      JSON.stringify({
        channel,
        timeCreated: event.timeUtc,
        provider: event.source,
        eventId: event.eventId,
        level: event.level,
        message: event.message,
      }),
    );
  const content = lines.map((line) => `${line}\n`).join('');
  writeFile(ctx, { path: path.text, content });
  return { present: true, size: Buffer.byteLength(content, 'utf8') };
}
