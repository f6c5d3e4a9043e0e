import { describeDuration } from '../../core/desired-state';
import type { TargetOutcome } from '../fleet/outcome';
import { machineId, type MachineRef } from '../input/azure-names';
import { findLeftovers } from '../channel/leftover-channels';
import { namespaceFromId } from '../channel/relay-namespaces';
import { channelMarker, markerConnections, storedLevel } from '../settings/public-settings';
import { machineSummary, parseNodeLines } from '../targets/node-lines';
import { requireConnected, requireMachine } from '../checks/machine-checks';
import { refreshSettings } from '../settings/public-settings';
import { notDeployed } from './extension-write';
import { failureOutcome } from './failure';
import { logCollectionStatus, type LogCollectionStatus } from './log-collection-status';
import type { RunContext } from './run-context';

export interface NodeStatus {
  node: string;
  message: string;
}

/** One machine's access as Azure knows it: the desired state in the settings and what the handler reported. */
export interface MachineStatus {
  machine: string;
  id: string;
  agentStatus?: string;
  provisioningState: string;
  level: string;
  supportRequestId?: string;
  grantId?: string;
  expiresAt?: string;
  /** `7 h 59 min`, `Expired`, or `-` when there is no grant. */
  timeLeft: string;
  message: string;
  nodes: NodeStatus[];
  /** The grant's channel as the public settings mark it: namespace and hybrid connections. */
  channel?: string;
  /** Hybrid connections left from this machine's ended grants (cleanup-channels removes them). */
  leftoverChannels?: string[];
  /** The last log collection request and what the handler said of it. */
  logCollection?: LogCollectionStatus;
}

export async function statusOne(
  ctx: RunContext,
  ref: MachineRef,
  label: string,
  options: { refresh?: boolean } = {},
): Promise<{ outcome: TargetOutcome; status?: MachineStatus }> {
  try {
    if (options.refresh) {
      const refused = await refresh(ctx, ref);
      if (refused) return { outcome: refused };
    }
    const machine = await ctx.api.getMachine(ref);
    if (!machine) {
      return {
        outcome: {
          result: 'failed',
          detail: `machine ${ref.name} was not found in resource group ${ref.resourceGroup} of subscription ${ref.subscriptionId}`,
        },
      };
    }
    const extension = await ctx.api.getExtension(ref);
    const status = describeStatus(label, ref, machine.status, extension, ctx.now());
    if (ctx.relay && extension) {
      const leftovers = await findLeftovers(ctx.relay, ref, extension.settings, ctx.now());
      const names = leftovers.flatMap((item) => item.names.map((name) => `${item.namespace.name}/${name}`));
      if (names.length > 0) status.leftoverChannels = names;
    }
    return { outcome: { result: 'ok', detail: status.message || status.provisioningState }, status };
  } catch (error) {
    return { outcome: await failureOutcome(ctx, ref, error) };
  }
}

/**
 * Makes the extension run enable again so that its status is the node's now: Azure refreshes an
 * extension's instance view only when the handler runs. The public settings it has, minus a log
 * collection request (one-shot), with a new forceUpdateTag and no protected settings: the node
 * keeps its channel and the grant's upload SAS on a public-only send. Waits for provisioning like
 * every write. A machine not connected, or without the extension, is refused and nothing is sent.
 */
async function refresh(ctx: RunContext, ref: MachineRef): Promise<TargetOutcome | undefined> {
  requireConnected(await requireMachine(ctx.api, ref));
  const current = await ctx.api.getExtension(ref);
  if (!current) return notDeployed(ref);
  await ctx.api.updateExtension(ref, { settings: refreshSettings(current.settings), forceUpdateTag: ctx.forceUpdateTag });
  return undefined;
}

export function describeStatus(
  label: string,
  ref: MachineRef,
  agentStatus: string | undefined,
  extension: { provisioningState?: string; settings?: Record<string, unknown>; message?: string } | undefined,
  now: Date,
): MachineStatus {
  const base = { machine: label, id: machineId(ref), ...(agentStatus ? { agentStatus } : {}) };
  if (!extension) {
    return { ...base, provisioningState: 'NotDeployed', level: '-', timeLeft: '-', message: 'the extension is not deployed', nodes: [] };
  }
  const access = (extension.settings?.access ?? {}) as { level?: unknown; grantId?: string; expiresAt?: string; supportRequestId?: string };
  // Read as the handler reads it: a stored `none` is a revoke, `diagnosticsrepair` a repair grant.
  const level = storedLevel(extension.settings);
  const marker = channelMarker(extension.settings);
  const collection = logCollectionStatus(extension.settings, extension.message);
  const hasGrant = level !== undefined && level !== 'None';
  const expires = hasGrant && access.expiresAt ? Date.parse(access.expiresAt) : Number.NaN;
  const timeLeft = !hasGrant
    ? '-'
    : !Number.isFinite(expires)
      ? 'unknown'
      : expires <= now.getTime()
        ? 'Expired'
        : describeDuration(expires - now.getTime());
  return {
    ...base,
    provisioningState: extension.provisioningState ?? 'unknown',
    level: level ?? String(access.level),
    ...(hasGrant && access.supportRequestId ? { supportRequestId: access.supportRequestId } : {}),
    ...(hasGrant && access.grantId ? { grantId: access.grantId } : {}),
    ...(hasGrant && access.expiresAt ? { expiresAt: access.expiresAt } : {}),
    timeLeft,
    message: machineSummary(extension.message),
    ...(marker && hasGrant
      ? { channel: `${namespaceFromId(marker.relayNamespaceId)?.name ?? marker.relayNamespaceId}: ${markerConnections(marker).join(', ')}` }
      : {}),
    nodes: parseNodeLines(extension.message).map((line) => ({ node: line.node, message: line.text })),
    ...(collection ? { logCollection: collection } : {}),
  };
}
