/**
 * The substatus lines of a handler run: one per node it touched (this node and the cluster peers)
 * saying what was done and the access the node has now, or why the node was left as it was and
 * the fix; and one per prerequisite check when this node is refused. A node whose grant in force
 * has a channel also says how the channel is connected, as the agent last reported it
 * (core/channel-view.ts): so the CLI's status and the portal show the connection per node. A node
 * that has run a log collection says how the last one ended (core/last-log-collection.ts).
 */
import { ExitCode, type ErrorDetail } from '../extension/errors';
import type { ProbeResult } from '../windows/operations';
import { describeChannelReading, readChannelState } from './channel-view';
import type { LeaveDecision, NodeRole } from './decide-node';
import type { DesiredRecord } from './desired-record';
import { formatUtc } from './desired-state';
import { describeEndReason, type EndedGrant } from './ended-grants';
import { describeLastLogCollection } from './last-log-collection';
import { CHANNEL_STATUS_FILE, GROUPS, LAST_LOG_COLLECTION_FILE } from './node-layout';
import { grantInForce } from './node-intent';
import type { ObservedNode, Step } from './node-plan';
import { auditIncomplete, describeAuditReport, type AuditReport } from './pending-audit';
import { describeCheck, type CheckResult } from './prerequisites';

/** Why a node could not be worked on: it is down, or it refused the session. */
export type Unreached = 'NodeUnreachable' | 'AccessDenied';

export interface NotReached {
  kind: 'not-reached';
  code: Unreached;
  detail: string;
}

/** A node that was converged, or whose convergence stopped at a failed step. */
export interface ConvergedNode {
  kind: 'converged';
  /** Null: nothing of ours stays on the node. */
  record: DesiredRecord | null;
  probe: ProbeResult | null;
  observed: ObservedNode;
  steps: Step[];
  /** The first step that failed, if any, other than an audit write (see core/apply-order.ts). */
  failure: { step: Step; message: string } | null;
  /** The audit records not written, and where they wait for the next run. */
  audit: AuditReport;
  /** The grant the command asked for had ended on this node before: it converged without it. */
  refused?: EndedGrant;
}

/** How one node's run ended. */
export type NodeRun =
  /** The cluster reports the node down: not tried. */
  | { kind: 'down' }
  | NotReached
  /** A host batch failed as a whole (its message names the phase and operation). */
  | { kind: 'batch-failed'; message: string }
  | LeaveDecision
  | ConvergedNode;

export interface NodeReportContext {
  /** The node's name as the owner knows it. */
  name: string;
  who: NodeRole;
  /** Whether the run was to remove everything of ours from the node. */
  removing: boolean;
  now: Date;
}

export function describeUnreached(node: string, code: Unreached, detail: string): string {
  return `${node}: ${code === 'AccessDenied' ? 'access denied' : 'unreachable'} (${detail})`;
}

export function nodeSubstatus(run: NodeRun, context: NodeReportContext): ErrorDetail {
  const { name, who } = context;
  const line = (status: ErrorDetail['status'], message: string) => nodeLine(name, status, message);
  const from = who.kind === 'peer' ? who.from : 'this node';
  const notReached = (why: string, fix: string) =>
    line(
      'warning',
      context.removing
        ? `not cleaned: ${why}. Anything of the extension there stays, and its own tasks still end access at its expiry; ${fix}`
        : `not covered: ${why}. Access there is unchanged; ${fix}`,
    );
  switch (run.kind) {
    case 'down':
      return notReached(
        'the node is down (cluster state Down)',
        `when it is up, run the command again, or deploy the extension on ${name}.`,
      );
    case 'not-reached':
      return run.code === 'AccessDenied'
        ? notReached(
            `${name} refused the connection from ${from} (${describeUnreached(name, run.code, run.detail)})`,
            `pushing to a peer as SYSTEM is often denied: deploy the extension on ${name}.`,
          )
        : notReached(
            `${name} did not answer (${describeUnreached(name, run.code, run.detail)})`,
            `check that WinRM answers on ${name} and run the command again, or deploy the extension on ${name}.`,
          );
    case 'batch-failed':
      return line('error', `${run.message}. Run the command again.`);
    case 'leave':
      return line(run.outcome === 'not-eligible' ? 'warning' : 'success', run.message);
    case 'converged':
      return convergedLine(run, context);
  }
}

/** What was done, and the access the node has now; a covered peer says from where; and any audit not recorded. */
function convergedLine(run: ConvergedNode, { name, who, now }: NodeReportContext): ErrorDetail {
  const peer = who.kind === 'peer' ? who : undefined;
  const audit = auditIncomplete(run.audit) ? ` ${describeAuditReport(run.audit)}` : '';
  if (run.failure) {
    const again = peer ? 'Run the command again' : 'Run enable again';
    return nodeLine(
      name,
      'error',
      `Failed at '${run.failure.step.description}'${peer ? ` on ${name}` : ''}: ${run.failure.message}. ${again}; the node converges from where it stopped.${audit}`,
    );
  }
  const changes = run.steps.length === 0 ? 'no change needed' : `${run.steps.length} change(s) applied`;
  // Access is as it must be; an audit write that failed makes it a warning, never a success.
  const status = audit ? 'warning' : 'success';
  if (run.record === null) {
    const kept = run.audit.keptIn ? ` but ${run.audit.keptIn}` : '';
    return nodeLine(
      name,
      status,
      `everything of the extension removed${kept}${peer ? ` (it was covered from ${peer.from})` : ''}; ${changes}.${audit}`,
    );
  }
  const grant = grantInForce(run.record, now);
  const channel = readChannelState(run.record, now, run.observed.files[CHANNEL_STATUS_FILE] ?? null);
  const connection = channel.channel ? `; ${describeChannelReading(channel)}` : '';
  const lastCollection = describeLastLogCollection(run.observed.files[LAST_LOG_COLLECTION_FILE] ?? null);
  const collection = lastCollection ? `; ${lastCollection}` : '';
  const state = `${grant ? `access ${grant.level} until ${formatUtc(grant.expiresAt)}` : 'access off'}${peer ? `, covered from ${peer.from}` : ''}${connection}${collection}`;
  if (run.refused) {
    const { grantId, endedAt } = run.refused;
    return nodeLine(
      name,
      'warning',
      `${state}: grant ${grantId} ended on ${name} at ${formatUtc(endedAt)} because ${describeEndReason(run.refused)}, and a grant that ended never gives access again; only a new grant gives access there; ${changes}.${audit}`,
    );
  }
  // A domain controller has no local accounts: the channel's per-grant account cannot exist there.
  if (grant && channel.channel && run.observed.channelAccounts === 'none-possible') {
    return nodeLine(
      name,
      'warning',
      `${grant ? `access ${grant.level} until ${formatUtc(grant.expiresAt)}` : 'access off'}${peer ? `, covered from ${peer.from}` : ''}; channel refused: ${name} is a domain controller, which has no local accounts for the channel's per-grant account, so no engineer can connect through the relay here (engineers in '${GROUPS.engineers}' keep their access); ${changes}.${audit}`,
    );
  }
  // Over a channel, engineers come in as the grant's own account: the Engineers group is then not needed.
  if (grant && !channel.channel && run.observed.groups.engineers.members.length === 0) {
    return nodeLine(
      name,
      'warning',
      `${state}, but nobody can use it: the group '${GROUPS.engineers}' is empty. Add the support engineers' accounts to it on ${name}; ${changes}.${audit}`,
    );
  }
  // Engineers cannot reach a node whose relay refuses it: worth the owner's attention.
  const refused = channel.status?.connection === 'refused';
  return nodeLine(name, refused ? 'warning' : status, `${state}; ${changes}.${audit}`);
}

function nodeLine(name: string, status: ErrorDetail['status'], message: string): ErrorDetail {
  return { name: `Node ${name}`, status, code: status === 'error' ? ExitCode.Failure : 0, message };
}

/** One line per prerequisite check, passed or failed, under the command's exit 51. */
export function prerequisiteSubstatus(checks: CheckResult[]): ErrorDetail[] {
  return checks.map((check) => ({
    name: `Prerequisite: ${check.check}`,
    status: check.passed ? 'success' : 'error',
    code: check.passed ? 0 : ExitCode.PrerequisiteFailed,
    message: describeCheck(check),
  }));
}
