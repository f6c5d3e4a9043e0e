/**
 * The handler's part on the local node: converge it (checking prerequisites when access is being
 * given) and report its substatus. The cluster's other nodes are cluster-peers.ts' part.
 */
import { PrerequisiteError, type ErrorDetail } from '../../extension/errors';
import { LOCAL_NODE } from '../../core/decide-node';
import type { DesiredRecord } from '../../core/desired-record';
import { nodeSubstatus, prerequisiteSubstatus, type ConvergedNode } from '../../core/node-report';
import type { NodeAdapters } from '../compose';
import { convergeNode, NodeNotReachable, type HandlerNodeRequest } from './converge-node';

export type LocalConvergeRequest = Omit<HandlerNodeRequest, 'node'>;

export interface LocalConvergeReport {
  /** The record the node converged to; null when everything of ours was removed. */
  record: DesiredRecord | null;
  result: ConvergedNode;
  substatus: ErrorDetail[];
}

export async function convergeLocalNode(binding: NodeAdapters, request: LocalConvergeRequest): Promise<LocalConvergeReport> {
  const run = await convergeNode(binding, LOCAL_NODE, request);
  if (run.kind === 'not-reached') throw new NodeNotReachable('local', run.code, run.detail);
  // Only the prerequisites leave this node as it is: exit 51, with one substatus per check.
  if (run.kind === 'leave')
    throw new PrerequisiteError(run.message, run.outcome === 'not-eligible' ? prerequisiteSubstatus(run.checks) : []);
  const name = run.probe?.computerName ?? 'this node';
  return {
    record: run.record,
    result: run,
    substatus: [nodeSubstatus(run, { name, who: LOCAL_NODE, removing: request.target === 'remove', now: request.now })],
  };
}
