/**
 * The handler's part on the local node: observe, check prerequisites when access is being given,
 * converge, and report the node's substatus. The cluster's other nodes are peer-nodes.ts' part.
 */
import { ExitCode, HandlerError } from '../../extension/errors';
import type { ErrorDetail } from '../../extension/errors';
import { parseDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import { formatUtc } from '../../core/desired-state';
import { DESIRED_STATE_FILE, GROUPS, HISTORY_FILE } from '../../core/node-layout';
import { buildNodeIntent, buildRemovalIntent, grantInForce, type JeaDefinition } from '../../core/node-intent';
import { checkPrerequisites } from '../../core/prerequisites';
import type { AgentInstallation, NodeIntent, ObservedNode } from '../../core/node-plan';
import type { ProbeResult } from '../../windows/operations';
import type { NodeAdapters } from '../compose';
import { resolveLicense, type ObservedLicenseSetting } from '../license/license-source';
import { convergeNode, type ConvergeResult } from './converge-node';
import { requirePrerequisites } from './prerequisites';

export interface LocalConvergeRequest {
  phase: string;
  now: Date;
  /** The record to converge to, given the one the node has; 'remove' uninstalls. */
  target: ((current: DesiredRecord) => DesiredRecord) | 'remove';
  changedBy: string;
  /** Check prerequisites when the target gives access (install checks always). */
  checkPrerequisites: 'always' | 'when-granting' | 'never';
  observedLicense?: ObservedLicenseSetting;
  jea: (computerName: string) => Promise<JeaDefinition>;
  jeaFilePaths: string[];
  agent: () => Promise<AgentInstallation>;
}

export interface LocalConvergeReport {
  record: DesiredRecord;
  result: ConvergeResult;
  substatus: ErrorDetail[];
}

export async function convergeLocalNode(binding: NodeAdapters, request: LocalConvergeRequest): Promise<LocalConvergeReport> {
  let record: DesiredRecord = parseDesiredRecord(null).record;
  const result = await convergeNode(binding.host, {
    phase: request.phase,
    jeaFilePaths: request.jeaFilePaths,
    intentFor: async (observed: ObservedNode, probe: ProbeResult | null): Promise<NodeIntent> => {
      if (!probe) throw new HandlerError(ExitCode.Failure, "Could not read this machine's operating system, memory and Arc agent state.");
      const current = parseDesiredRecord(observed.files[DESIRED_STATE_FILE] ?? null).record;
      if (request.target === 'remove') return buildRemovalIntent({ previous: current, observed, now: request.now, changedBy: request.changedBy });
      // This node's own extension manages it from now on, even if a peer's extension covered it before.
      const { managedFrom: _coveredBefore, ...target } = request.target(current);
      record = withoutLocallyRevokedGrant(target, observed.files[HISTORY_FILE] ?? null);
      const granting = grantInForce(record, request.now) !== undefined;
      if (request.checkPrerequisites === 'always' || (request.checkPrerequisites === 'when-granting' && granting)) {
        const license = await resolveLicense(binding.license, probe.arc.resourceId, request.observedLicense);
        requirePrerequisites({ probe, results: checkPrerequisites(probe, license) });
      }
      return buildNodeIntent({
        record,
        previous: current,
        observed,
        now: request.now,
        changedBy: request.changedBy,
        jea: await request.jea(probe.computerName),
        agent: await request.agent(),
      });
    },
  });
  return { record, result, substatus: nodeSubstatus(result, record, request.now, request.target === 'remove') };
}

/**
 * The owner's local revoke (Disable-RemoteSupport on the node) wins over settings that still carry
 * the same grant: only a new grant, with a new id, gives access again.
 */
export function withoutLocallyRevokedGrant(record: DesiredRecord, history: string | null): DesiredRecord {
  const grantId = record.grant?.grantId;
  if (!grantId || !history) return record;
  const revokedLocally = history.split('\n').some((line) => {
    try {
      const entry = JSON.parse(line);
      return entry.change === 'revoked' && entry.grantId === grantId && String(entry.by).endsWith('(local)');
    } catch {
      return false;
    }
  });
  return revokedLocally ? { ...record, grant: null } : record;
}

/** The local node's substatus: what was done, and the access it has now. */
function nodeSubstatus(result: ConvergeResult, record: DesiredRecord, now: Date, removed: boolean): ErrorDetail[] {
  const local = result.probe?.computerName ?? 'this node';
  const grant = grantInForce(record, now);
  const state = removed ? 'everything of the extension removed' : grant ? `access ${grant.level} until ${formatUtc(grant.expiresAt)}` : 'access off';
  const changes = result.steps.length === 0 ? 'no change needed' : `${result.steps.length} change(s) applied`;
  const items: ErrorDetail[] = [
    result.failure
      ? { name: `Node ${local}`, status: 'error', code: ExitCode.Failure, message: `Failed at '${result.failure.step.description}': ${result.failure.message}. Run enable again; the node converges from where it stopped.` }
      : grant && result.observed.groups.engineers.members.length === 0
        ? { name: `Node ${local}`, status: 'warning', code: 0, message: `${state}, but nobody can use it: the group '${GROUPS.engineers}' is empty. Add the support engineers' accounts to it on ${local}; ${changes}.` }
        : { name: `Node ${local}`, status: 'success', code: 0, message: `${state}; ${changes}.` },
  ];
  return items;
}
