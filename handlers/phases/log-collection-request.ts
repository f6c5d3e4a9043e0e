/**
 * Hands the owner's log collection request to the node's SYSTEM agent: the request file (created
 * only if none waits), the SAS machine-protected (writeSecretFile), then the one-shot CollectLogs
 * task that runs `agent collect-logs`. The handler itself collects nothing (its service is CPU-capped). One
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

/**
 * Reads the node: refuses while another collection waits or runs; says whether this one is new.
 * A request that waits with no CollectLogs run to come (a handler killed before registering the
 * task, or a task whose tries ran out and expired) gets its task again first, so that it ends and
 * never blocks the next collection for good; its upload resumes from the journal.
 */
export async function checkLogCollectionRequest(host: WindowsHost, request: LogCollectionRequest, at: Date): Promise<RequestState> {
  const [waiting, record, task] = await host.execute(
    [
      op('readFile', { path: LOG_COLLECTION_REQUEST_FILE }),
      op('getPath', { path: logCollectionRecordPath(request.collectionId) }),
      op('getTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK }),
    ],
    { phase: 'enable: log collection (observe)' },
  );
  if (!waiting?.ok || !record?.ok || !task?.ok)
    throw new HandlerError(ExitCode.Failure, 'Enable could not read whether a log collection is running on this node.');
  const content = (waiting.value as { content: string | null }).content;
  await restartStalledCollection(host, content, (task.value as { state: string | null }).state, at);
  if (content !== null) return waitingState(content, request);
  if ((record.value as { exists: boolean }).exists) return { kind: 'done' };
  return { kind: 'new' };
}

/**
 * Registers CollectLogs again (a one-shot task 30 s from now) when a request waits (`waiting`, the
 * request file's content) and the task is not running (`taskState`, from getTask).
 */
export async function restartStalledCollection(
  host: WindowsHost,
  waiting: string | null,
  taskState: string | null,
  at: Date,
): Promise<void> {
  if (waiting === null || !parseLogCollectionRequest(waiting) || taskState === 'Running') return;
  const [registered] = await host.execute(
    [op('registerTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK, xml: collectLogsTask({ registeredAt: at }) })],
    { phase: 'enable: log collection (restart the waiting one)' },
  );
  if (registered && !registered.ok)
    throw new HandlerError(ExitCode.Failure, `Enable could not start the waiting log collection again: ${registered.error.message}`);
}

/**
 * The waiting request file's `content` against this request: another collection -> refused,
 * naming it; this one -> same-waiting; anything else -> the file is not ours to judge.
 */
function waitingState(content: string, request: LogCollectionRequest): RequestState {
  const running = parseLogCollectionRequest(content);
  if (running && running.collectionId !== request.collectionId) {
    const { what, fix } = collectionNotEnded(running);
    throw new ConfigurationError('logCollection.requestId', `${request.collectionId} while ${what}`, fix);
  }
  if (running) return { kind: 'same-waiting' };
  throw new HandlerError(
    ExitCode.Failure,
    `${LOG_COLLECTION_REQUEST_FILE} is not a log collection request: the agent cannot tell what it holds. Delete it as an administrator, then enable again.`,
  );
}

/**
 * Creates the request only if none waits (the create decides between two requests of the same
 * instant: checkLogCollectionRequest only read), then the SAS, then the task (it finds both when
 * it runs). The SAS comes after the create so that a request that lost never replaces the SAS of
 * the collection that won. A request that lost is refused as checkLogCollectionRequest refuses.
 */
export async function submitLogCollectionRequest(host: WindowsHost, settings: LogCollectionSettings, at: Date): Promise<void> {
  const outcomes = await host.execute(
    [
      op('ensureDirectory', { path: DATA_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
      op('writeFile', {
        path: LOG_COLLECTION_REQUEST_FILE,
        content: serializeLogCollectionRequest(settings.request),
        sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
        createNew: true,
      }),
      op('writeSecretFile', { path: LOG_COLLECTION_SAS_FILE, secret: hostSecret(settings.containerSas) }),
      op('registerTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK, xml: collectLogsTask({ registeredAt: at }) }),
    ],
    { phase: 'enable: log collection' },
  );
  const [, created] = outcomes;
  if (created && !created.ok && created.error.code === 'Exists') {
    await refuseForWaiting(host, settings.request);
    return;
  }
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (!failed || failed.ok) return;
  if (created?.ok) await withdrawRequest(host, settings.request);
  throw new HandlerError(ExitCode.Failure, `Enable could not hand the log collection to the agent: ${failed.error.message}`);
}

/** Another request was created first: refused naming it, or nothing new when it is this same one. */
async function refuseForWaiting(host: WindowsHost, request: LogCollectionRequest): Promise<void> {
  const [waiting] = await host.execute([op('readFile', { path: LOG_COLLECTION_REQUEST_FILE })], {
    phase: 'enable: log collection (read the one that went first)',
  });
  const content = waiting?.ok ? (waiting.value as { content: string | null }).content : null;
  if (content === null)
    throw new HandlerError(
      ExitCode.Failure,
      'Enable found another log collection request created at the same time, and could not read it (it may have ended already): enable again.',
    );
  waitingState(content, request);
}

/**
 * Takes back a request this enable created when the SAS or the task after it failed: no task would
 * ever run it, and while it waits every later enable would see it as this one, waiting. Only when
 * the file still holds this request (nothing else may replace it, but the check costs one read).
 */
async function withdrawRequest(host: WindowsHost, request: LogCollectionRequest): Promise<void> {
  const [waiting] = await host.execute([op('readFile', { path: LOG_COLLECTION_REQUEST_FILE })], {
    phase: 'enable: log collection (take back the request)',
  });
  const content = waiting?.ok ? (waiting.value as { content: string | null }).content : null;
  if (parseLogCollectionRequest(content)?.collectionId !== request.collectionId) return;
  await host.execute([op('removePath', { path: LOG_COLLECTION_REQUEST_FILE })], {
    phase: 'enable: log collection (take back the request)',
  });
}
