/**
 * Hands the owner's log collection request to the node's SYSTEM agent: the SAS machine-protected
 * (writeSecretFile), the request file, then the one-shot CollectLogs task that runs
 * `agent collect-logs`. The handler itself collects nothing (its service is CPU-capped). One
 * collection at a time: a request while another waits or runs is refused, naming it; the same
 * request again (a replayed enable) asks nothing new.
 */
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { hostSecret, op } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';
import { COLLECT_LOGS_TASK, DATA_FOLDER, LOG_COLLECTION_REQUEST_FILE, LOG_COLLECTION_SAS_FILE, TASK_FOLDER } from '../../core/node-layout';
import {
  collectionNotEnded,
  logCollectionRecordPath,
  parseLogCollectionRequest,
  serializeLogCollectionRequest,
  type LogCollectionRequest,
} from '../../core/log-collection-record';
import { collectLogsTask } from '../../core/task-definitions';
import { ConfigurationError, HandlerError, ExitCode } from '../../extension/errors';
import type { LogCollectionSettings } from '../log-collection-settings';

export type RequestState = { kind: 'new' } | { kind: 'same-waiting' } | { kind: 'done' };

/** Reads the node: refuses while another collection waits or runs; says whether this one is new. */
export async function checkLogCollectionRequest(host: WindowsHost, request: LogCollectionRequest): Promise<RequestState> {
  const [waiting, record] = await host.execute(
    [op('readFile', { path: LOG_COLLECTION_REQUEST_FILE }), op('getPath', { path: logCollectionRecordPath(request.collectionId) })],
    { phase: 'enable: log collection (observe)' },
  );
  if (!waiting?.ok || !record?.ok)
    throw new HandlerError(ExitCode.Failure, 'Enable could not read whether a log collection is running on this node.');
  const content = (waiting.value as { content: string | null }).content;
  const running = parseLogCollectionRequest(content);
  if (running && running.collectionId !== request.collectionId) {
    const { what, fix } = collectionNotEnded(running);
    throw new ConfigurationError('logCollection.requestId', `${request.collectionId} while ${what}`, fix);
  }
  if (running) return { kind: 'same-waiting' };
  if ((record.value as { exists: boolean }).exists) return { kind: 'done' };
  if (content !== null)
    throw new HandlerError(
      ExitCode.Failure,
      `${LOG_COLLECTION_REQUEST_FILE} is not a log collection request: the agent cannot tell what it holds. Delete it as an administrator, then enable again.`,
    );
  return { kind: 'new' };
}

/** Writes the SAS, the request and the task, in that order (the task finds both when it runs). */
export async function submitLogCollectionRequest(host: WindowsHost, settings: LogCollectionSettings, at: Date): Promise<void> {
  const outcomes = await host.execute(
    [
      op('ensureDirectory', { path: DATA_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('writeSecretFile', { path: LOG_COLLECTION_SAS_FILE, secret: hostSecret(settings.containerSas) }),
      op('writeFile', {
        path: LOG_COLLECTION_REQUEST_FILE,
        content: serializeLogCollectionRequest(settings.request),
        sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
      }),
      op('registerTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK, xml: collectLogsTask({ registeredAt: at }) }),
    ],
    { phase: 'enable: log collection' },
  );
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed && !failed.ok)
    throw new HandlerError(ExitCode.Failure, `Enable could not hand the log collection to the agent: ${failed.error.message}`);
}
