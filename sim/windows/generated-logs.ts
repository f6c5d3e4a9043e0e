/**
 * The logs a simulated node writes on request (writeGeneratedLog). Semantics:
 * - `sinceUtc` must be a UTC time and the path a `.log` file directly in EXPORTED_LOGS_FOLDER
 *   (else InvalidRequest); that folder must exist (NotFound);
 * - clusterLog: a node without the cluster service (ClusSvc) -> `present: false`; else the
 *   cluster and node, then the node's FailoverClustering/Operational events from `sinceUtc` on;
 * - windowsUpdateLog: every node has it (Server 2016 and later): its WindowsUpdateClient/Operational
 *   events, all of them (Get-WindowsUpdateLog takes no window).
 * The text is the simulated machine's own rendering, one event a line: it is NOT what
 * Get-ClusterLog or Get-WindowsUpdateLog write on Windows.
 */
import { EXPORTED_LOGS_FOLDER, type OperationCatalog } from '../../windows/operations';
import { channelEvents } from './event-logs';
import { writeFile, type NodeContext } from './file-system';
import type { EventRecord, MachineModel } from './machine-model';
import { sameName } from './names';
import { OperationFailure } from './operation-failure';
import { leafName, parentOf, parseWindowsPath } from './windows-path';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

interface GeneratedLogContext extends NodeContext {
  model: MachineModel;
  nodeKey: string;
}

const line = (event: EventRecord) => `${event.timeUtc} [${event.level}] ${event.source} ${event.eventId}: ${event.message}\n`;

export function writeGeneratedLog(ctx: GeneratedLogContext, request: Request<'writeGeneratedLog'>): Result<'writeGeneratedLog'> {
  const { producer } = request;
  if (producer !== 'clusterLog' && producer !== 'windowsUpdateLog') {
    throw new OperationFailure('InvalidRequest', `'${String(producer)}' is not clusterLog or windowsUpdateLog`, String(producer));
  }
  const since = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/.test(request.sinceUtc) ? Date.parse(request.sinceUtc) : NaN;
  if (Number.isNaN(since)) throw new OperationFailure('InvalidRequest', `sinceUtc '${request.sinceUtc}' is not a UTC time`, producer);
  const path = parseWindowsPath(request.path);
  const folder = path ? parentOf(path) : null;
  if (!path || !folder || !sameName(folder.text, EXPORTED_LOGS_FOLDER) || !/^[A-Za-z0-9_-]+\.log$/i.test(leafName(path))) {
    throw new OperationFailure(
      'InvalidRequest',
      `The log path '${request.path}' is not a .log file directly in '${EXPORTED_LOGS_FOLDER}'`,
      request.path,
    );
  }
  let content: string;
  if (producer === 'clusterLog') {
    if (!ctx.node.services.some((service) => sameName(service.name, 'ClusSvc'))) return { present: false, size: 0 };
    const events = channelEvents(ctx.node, 'Microsoft-Windows-FailoverClustering/Operational') ?? [];
    content =
      `Simulated cluster log of ${ctx.nodeKey} in ${ctx.model.cluster?.name ?? 'no cluster'} from ${request.sinceUtc} (UTC)\n` +
      events
        .filter((event) => Date.parse(event.timeUtc) >= since)
        .sort((a, b) => Date.parse(a.timeUtc) - Date.parse(b.timeUtc))
        .map(line)
        .join('');
  } else {
    const events = channelEvents(ctx.node, 'Microsoft-Windows-WindowsUpdateClient/Operational') ?? [];
    content = `Simulated Windows Update log of ${ctx.nodeKey}\n${[...events]
      .sort((a, b) => Date.parse(a.timeUtc) - Date.parse(b.timeUtc))
      .map(line)
      .join('')}`;
  }
  writeFile(ctx, { path: path.text, content });
  return { present: true, size: Buffer.byteLength(content, 'utf8') };
}
