/**
 * `agent request-log-collection --from <UTC> --to <UTC> --category <A,B,...> --requested-by <DOMAIN\user>`:
 * the engineer's request for a log collection, run by the JEA function
 * Request-RemoteSupportLogCollection as the session's run-as account (an administrator, not
 * SYSTEM). It collects nothing: it checks everything again (window against the node's clock,
 * categories from the fixed set), requires a grant in force whose owner allowed log uploads, and one
 * collection at a time, then leaves the request (trigger engineer) for the SYSTEM agent and
 * registers the one-shot CollectLogs task, as the handler does for the owner's request.
 *
 * Exit codes: 0 accepted (the collection id on the one line printed); 2 bad arguments; 3 refused,
 * with the reason on one line.
 */
import { randomUUID } from 'crypto';
import { CollectionRequestError, checkCategories, checkWindow } from '../../diag/collect-plan';
import { grantForEngineerCollection } from '../../core/engineer-log-collection';
import {
  collectionNotEnded,
  parseLogCollectionRequest,
  serializeLogCollectionRequest,
  type LogCollectionRequest,
} from '../../core/log-collection-record';
import {
  COLLECT_LOGS_TASK,
  DESIRED_STATE_FILE,
  LOG_COLLECTION_REQUEST_FILE,
  LOG_UPLOAD_SAS_FILE,
  TASK_FOLDER,
} from '../../core/node-layout';
import { COLLECT_LOGS_DELAY_MS, collectLogsTask } from '../../core/task-definitions';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op } from '../../windows/operations';
import type { WindowsHost } from '../../windows/port';
import { restartStalledCollection } from '../../handlers/phases/log-collection-request';
import { parseOptions } from '../arguments';
import type { AgentResult } from '../commands';

export const REQUEST_LOG_COLLECTION_USAGE =
  'usage: agent request-log-collection --from <UTC time> --to <UTC time> --category <Category[,Category...]> --requested-by <DOMAIN\\user>';
export const REFUSED_EXIT = 3;

/** Printable text only, of a length an account name has: it lands in records, events and history. */
const REQUESTER = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,256}$/u;

export async function requestLogCollectionCommand(argv: string[], host: WindowsHost, now: Date): Promise<AgentResult> {
  const parsed = parseOptions('request-log-collection', argv, { values: ['--from', '--to', '--category', '--requested-by'] });
  if ('problem' in parsed) return usage(parsed.problem);
  const missing = ['--from', '--to', '--category', '--requested-by'].filter((name) => !parsed.values.has(name));
  if (missing.length > 0) return usage(`request-log-collection: ${missing.join(', ')} missing`);
  const requestedBy = parsed.values.get('--requested-by')!;
  if (!REQUESTER.test(requestedBy.trim()))
    return usage('request-log-collection: --requested-by must be the account name (1 to 256 printable characters)');
  let window: { from: string; to: string };
  let categories: string[];
  try {
    window = checkWindow({ from: parsed.values.get('--from')!, to: parsed.values.get('--to')! }, now);
    categories = checkCategories(
      parsed.values
        .get('--category')!
        .split(',')
        .map((name) => name.trim()),
    );
  } catch (error) {
    if (!(error instanceof CollectionRequestError)) throw error;
    return usage(`request-log-collection: ${error.message}`);
  }

  const [desired, waiting, sasStored, task] = await host.execute(
    [
      op('readFile', { path: DESIRED_STATE_FILE }),
      op('readFile', { path: LOG_COLLECTION_REQUEST_FILE }),
      op('getPath', { path: LOG_UPLOAD_SAS_FILE }),
      op('getTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK }),
    ],
    { phase: 'request-log-collection: read the grant', stopOnError: false },
  );
  if (!desired?.ok || !waiting?.ok || !sasStored?.ok || !task?.ok)
    return refused('this node could not be read (its grant, or whether a collection is running); try again, or ask the owner.');
  const found = grantForEngineerCollection(contentOf(desired.value), now);
  if (!found.ok) return refused(found.refusal);
  if ((sasStored.value as { exists: boolean }).exists !== true)
    return refused(
      `the upload SAS of the grant ${found.grant.grantId} is not on this node: ask the owner to grant again with --log-container-sas-file.`,
    );
  const waitingText = contentOf(waiting.value);
  if (waitingText !== null) {
    // A waiting request with no run to come gets its task again, so that it ends (the refusal stands).
    await restartStalledCollection(host, waitingText, (task.value as { state: string | null }).state, now).catch(() => undefined);
    return refusedForWaiting(waitingText);
  }

  const request: LogCollectionRequest = {
    collectionId: randomUUID(),
    trigger: 'engineer',
    requestedBy: requestedBy.trim(),
    requestedAt: now.toISOString(),
    window,
    categories,
    // The Security log needs the owner's own opt-in: never on the engineer's request.
    includeSecurityLog: false,
    grantId: found.grant.grantId,
    supportRequestId: found.grant.supportRequestId,
  };
  const outcomes = await host.execute(
    [
      // Created only if none waits: the read above told nothing about a request of the same instant.
      op('writeFile', {
        path: LOG_COLLECTION_REQUEST_FILE,
        content: serializeLogCollectionRequest(request),
        sddl: SYSTEM_AND_ADMINISTRATORS_ONLY,
        createNew: true,
      }),
      op('registerTask', { folder: TASK_FOLDER, name: COLLECT_LOGS_TASK, xml: collectLogsTask({ registeredAt: now }) }),
    ],
    { phase: 'request-log-collection: hand over to the agent' },
  );
  const [created] = outcomes;
  if (created && !created.ok && created.error.code === 'Exists') return refusedForWaiting(await readWaiting(host));
  const failed = outcomes.find((outcome) => !outcome.ok);
  if (failed && !failed.ok)
    return { exitCode: 1, output: `request-log-collection: could not hand the request to the agent: ${failed.error.message}` };
  return {
    exitCode: 0,
    output: `Log collection ${request.collectionId} requested: ${categories.join(', ')} from ${window.from} to ${window.to}, under the grant ${request.grantId} (support request ${request.supportRequestId}); the node's agent starts it in about ${Math.round(COLLECT_LOGS_DELAY_MS / 1000)} seconds and uploads it to ${found.upload.container}.`,
  };
}

/** The refusal while `waitingText` is in the request file (null: one was, but could not be read). */
function refusedForWaiting(waitingText: string | null): AgentResult {
  const running = parseLogCollectionRequest(waitingText);
  if (running) {
    const { what, fix } = collectionNotEnded(running);
    return refused(`${what}: ${fix}.`);
  }
  if (waitingText === null)
    return refused('another collection was requested at the same moment and could not be read (it may have ended already); try again.');
  return refused(`${LOG_COLLECTION_REQUEST_FILE} is not a log collection request; the owner must delete it as an administrator.`);
}

/** The request that went first, or null when it cannot be read or is gone already. */
async function readWaiting(host: WindowsHost): Promise<string | null> {
  const [waiting] = await host.execute([op('readFile', { path: LOG_COLLECTION_REQUEST_FILE })], {
    phase: 'request-log-collection: read the one that went first',
  });
  return waiting?.ok ? contentOf(waiting.value) : null;
}

function contentOf(value: unknown): string | null {
  const read = value as { exists?: boolean; content?: string | null };
  return read.exists === false ? null : (read.content ?? null);
}

function usage(problem: string): AgentResult {
  return { exitCode: 2, output: `${problem.replace(/\.$/, '')}. ${REQUEST_LOG_COLLECTION_USAGE}` };
}

function refused(reason: string): AgentResult {
  return { exitCode: REFUSED_EXIT, output: `Log collection refused: ${reason}` };
}
