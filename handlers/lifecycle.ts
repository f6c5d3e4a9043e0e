import type { Operation, OperationContext, OperationHandler, OperationResult } from '../extension/dispatcher';
import { protocolEnvironment } from '../extension/dispatcher';
import { describeAccess } from '../core/access-summary';
import { dataFolder } from './data-folder';
import { checkConsentTime, isExpired, rejectExpiredNewGrant, toDesiredState } from '../core/desired-state';
import { HostBatchError } from '../windows/port';
import { composeNode, type NodeAdapters } from './compose';
import { ExitCode, HandlerError } from '../extension/errors';
import type { ObservedLicenseSetting } from './license/license-source';
import type { DesiredRecord } from '../core/desired-record';
import { agentInstallation } from './phases/agent-files';
import { JEA_NODE_FILE_PATHS, loadJeaDefinition } from './phases/jea-files';
import { convergeLocalNode, type LocalConvergeReport, type LocalConvergeRequest } from './phases/local-node';
import { convergeCluster, type ClusterRequest } from './phases/cluster-peers';
import { StateStore, storeDesiredState, type RecordedState } from './state-store';
import { auditIncomplete } from '../core/pending-audit';

export interface LifecycleOptions {
  version: string;
  now?: () => Date;
  /** The Windows host and license source for a run; default chosen from the environment. */
  bindHost?: (context: OperationContext) => Promise<NodeAdapters>;
}

/**
 * The five lifecycle commands. Each is a short script over the state store and the desired
 * state. The upgrade protocol: the new version's `update` writes a marker naming the version it
 * replaces; the old version's `uninstall` (which the manager runs after that) sees itself named
 * and keeps everything; the new version's `install` removes the marker.
 */
export function lifecycleHandlers(options: LifecycleOptions): Record<Operation, OperationHandler> {
  const version = options.version;
  const storeFor = (context: OperationContext) => new StateStore(dataFolder(context.environment));
  // One binding per run: the clock and the phases share it.
  const bindings = new WeakMap<OperationContext, Promise<NodeAdapters>>();
  const chooseHost = options.bindHost ?? ((context: OperationContext) => composeNode(context.environment, context.extensionRoot));
  const bindHost = (context: OperationContext): Promise<NodeAdapters> => {
    if (!bindings.has(context)) bindings.set(context, chooseHost(context));
    return bindings.get(context)!;
  };

  // Every run is journaled, failures included, except where uninstall has removed the folder.
  const journaled =
    (handler: (context: OperationContext, store: StateStore, at: Date) => Promise<OperationResult>): OperationHandler =>
    async (context) => {
      const store = storeFor(context);
      let at = new Date();
      const record = (status: string, problem?: string) =>
        store.appendOperationIfPresent({
          at: at.toISOString(),
          operation: context.operation,
          version,
          sequenceNumber: context.sequenceNumber ?? null,
          status,
          ...(problem ? { problem } : {}),
          environment: protocolEnvironment(context.environment),
        });
      try {
        // One time for the whole run: the machine's clock (the simulated machine keeps its own).
        at = options.now?.() ?? (await (await bindHost(context)).clock?.()) ?? at;
        const result = await handler(context, store, at);
        await record(result.status);
        return result;
      } catch (error) {
        await record('error', (error as Error).message).catch(() => undefined);
        // A host phase that failed as a whole already says which phase and operation: report it as is.
        if (error instanceof HostBatchError) throw new HandlerError(ExitCode.Failure, error.message);
        throw error;
      }
    };

  const jeaFor = (context: OperationContext) => (computerName: string) => loadJeaDefinition(context.extensionRoot, computerName);
  const agentFor = (context: OperationContext) => () => agentInstallation(context.extensionRoot, version);
  const converge = async (context: OperationContext, request: Omit<LocalConvergeRequest, 'jea' | 'jeaFilePaths' | 'agent'>) =>
    convergeLocalNode(await bindHost(context), { ...request, jea: jeaFor(context), jeaFilePaths: JEA_NODE_FILE_PATHS, agent: agentFor(context) });
  const failIfNodeFailed = (report: LocalConvergeReport, message: string) => {
    const failure = report.result.failure;
    if (failure) throw new HandlerError(ExitCode.Failure, `${message} failed at '${failure.step.description}': ${failure.message}`, report.substatus);
  };

  /** After the local node, the cluster's other nodes; the substatus of every node, local first. */
  const withPeers = async (context: OperationContext, state: RecordedState, local: LocalConvergeReport, request: Omit<ClusterRequest, 'jea' | 'jeaFilePaths' | 'agent'>) => {
    const peers = await convergeCluster(await bindHost(context), local.result.probe, state.coveredPeers ?? [], {
      ...request,
      jea: jeaFor(context),
      jeaFilePaths: JEA_NODE_FILE_PATHS,
      agent: agentFor(context),
    });
    return { ...peers, substatus: [...local.substatus, ...peers.substatus] };
  };

  return {
    install: journaled(async (context, store, at) => {
      const marker = await store.readUpgradeMarker();
      const publicSettings = await publicSettingsIfReadable(context);
      // Installs the JEA module, groups, endpoint, tasks and data folder; keeps any access already recorded.
      const request = { phase: 'install', now: at, target: (current: DesiredRecord) => current, changedBy: 'install', checkPrerequisites: 'always' as const };
      const report = await converge(context, { ...request, observedLicense: observedLicenseOf(publicSettings) });
      failIfNodeFailed(report, 'Install');
      const state = await currentState(store, version);
      const cluster = await withPeers(context, state, report, { ...request, mode: installOnPeersOf(publicSettings) ? 'cover' : 'release' });
      await store.writeState({ ...state, extensionVersion: version, coveredPeers: cluster.coveredPeers });
      const status = cluster.problems || auditIncomplete(report.result.audit) ? 'warning' : 'success';
      if (marker.kind === 'ok' && marker.value.toVersion === version) {
        await store.removeUpgradeMarker();
        return { status, message: `Installed version ${version}, completing the update from ${marker.value.fromVersion}; existing state kept.${auditNote(report)}${peerNote(cluster)}`, substatus: cluster.substatus };
      }
      return { status, message: `Installed version ${version}.${auditNote(report)}${peerNote(cluster)}`, substatus: cluster.substatus };
    }),

    enable: journaled(async (context, store, at) => {
      // Bad settings throw before anything is written: what was applied before stays in force.
      const settings = await context.loadSettings();
      const desired = toDesiredState(settings.publicSettings);
      const state = await currentState(store, version);
      if (desired.grant) {
        checkConsentTime(desired.grant, at);
        const alreadyApplied = state.applied?.desired.grant?.grantId === desired.grant.grantId;
        if (isExpired(desired.grant, at) && !alreadyApplied) rejectExpiredNewGrant(desired.grant, at);
      }
      const record: DesiredRecord = { enabled: true, retentionDays: desired.retentionDays, grant: desired.grant ?? null };
      const request = {
        phase: 'enable',
        now: at,
        target: () => record,
        changedBy: desired.grant?.consent.acceptedBy ?? 'extension settings',
        // Only giving access needs an eligible machine: revoking must always work.
        checkPrerequisites: 'when-granting' as const,
      };
      const report = await converge(context, { ...request, observedLicense: observedLicenseOf(settings.publicSettings) });
      failIfNodeFailed(report, 'Enable');
      const cluster = await withPeers(context, state, report, { ...request, mode: installOnPeersOf(settings.publicSettings) ? 'cover' : 'release' });
      await store.writeState({
        ...state,
        extensionVersion: version,
        enabled: true,
        coveredPeers: cluster.coveredPeers,
        applied: {
          sequenceNumber: settings.sequenceNumber,
          appliedAt: at.toISOString(),
          desired: storeDesiredState(desired),
          protectedSettingsPresent: settings.protectedSettings !== undefined,
        },
      });
      const revokedOnNode = desired.grant && !report.record?.grant;
      const access = revokedOnNode
        ? `Access: none (grant ${desired.grant!.grantId} was revoked on the machine by its owner; grant again to give access).`
        : describeAccess(desired, at);
      const pinned = versionMarkerNote(settings.publicSettings, version);
      const warned = revokedOnNode || pinned !== '' || cluster.substatus.some((item) => item.status !== 'success');
      return { status: warned ? 'warning' : 'success', message: `${access} ${settingsNote(settings.empty, settings.sequenceNumber)}${pinned}${auditNote(report)}${peerNote(cluster)}`, substatus: cluster.substatus };
    }),

    update: journaled(async (context, store, at) => {
      const state = await currentState(store, version);
      const fromVersion = context.environment.AZURE_GUEST_AGENT_UPDATING_FROM_VERSION || state.extensionVersion;
      await store.writeUpgradeMarker({ fromVersion, toVersion: version, writtenAt: at.toISOString() });
      await store.writeState({ ...state, extensionVersion: version });
      return { status: 'success', message: `Updated from version ${fromVersion} to ${version}; state and access kept.` };
    }),

    disable: journaled(async (context, store, at) => {
      const upgrading = await isBeingReplaced(store, version);
      const state = await currentState(store, version);
      // The old version's disable during an update keeps access: the new version takes over at once.
      if (upgrading) {
        await store.writeState({ ...state, enabled: false });
        return { status: 'success', message: `Disabled: access is off; the installation is kept.` };
      }
      const request = { phase: 'disable', now: at, target: (current: DesiredRecord) => ({ ...current, enabled: false }), changedBy: 'disable', checkPrerequisites: 'never' as const };
      const report = await converge(context, request);
      failIfNodeFailed(report, 'Disable');
      const cluster = await withPeers(context, state, report, { ...request, mode: 'keep' });
      await store.writeState({ ...state, enabled: false, coveredPeers: cluster.coveredPeers });
      const status = cluster.problems || auditIncomplete(report.result.audit) ? 'warning' : 'success';
      return { status, message: `Disabled: access is off; the installation is kept.${auditNote(report)}${peerNote(cluster)}`, substatus: cluster.substatus };
    }),

    uninstall: journaled(async (context, store, at) => {
      const marker = await store.readUpgradeMarker();
      if (marker.kind === 'ok' && marker.value.fromVersion === version && marker.value.toVersion !== version) {
        return { status: 'success', message: `Uninstalled version ${version} as part of the update to ${marker.value.toVersion}; state kept for it.` };
      }
      // Read before the node is cleaned: on Windows the node's data folder is this state's folder too.
      const state = await currentState(store, version);
      const report = await converge(context, { phase: 'uninstall', now: at, target: 'remove', changedBy: 'uninstall', checkPrerequisites: 'never' });
      failIfNodeFailed(report, 'Uninstall');
      const cluster = await withPeers(context, state, report, { phase: 'uninstall', now: at, target: (current) => current, changedBy: 'uninstall', checkPrerequisites: 'never', mode: 'release' });
      // An audit record of the removal that waits to be written must outlive this run: the state
      // stays (with the peers to clean), and uninstall fails, so that running it again writes it.
      const waiting = [...(report.result.audit.keptIn ? [nodeName(report)] : []), ...cluster.auditWaiting];
      if (waiting.length > 0) {
        await store.writeState({ ...state, coveredPeers: cluster.coveredPeers });
        throw new HandlerError(
          ExitCode.Failure,
          `Access is off, but the audit record of its removal could not be written on ${waiting.join(', ')} (see each node): it waits in the data folder there. Run uninstall again once the Windows event log works; that run writes it and removes the rest.`,
          cluster.substatus,
        );
      }
      await store.removeEverything();
      if (cluster.problems) {
        return { status: 'warning', message: `Uninstalled from this node; ${cluster.problems} covered peer(s) could not be cleaned (see each node).`, substatus: cluster.substatus };
      }
      return { status: 'success', message: 'Uninstalled; every trace of the extension was removed.', substatus: cluster.substatus };
    }),
  };
}

/** Whether a newer version's update named this version as the one it replaces. */
async function isBeingReplaced(store: StateStore, version: string): Promise<boolean> {
  const marker = await store.readUpgradeMarker();
  return marker.kind === 'ok' && marker.value.fromVersion === version && marker.value.toVersion !== version;
}

function observedLicenseOf(publicSettings: Record<string, unknown>): ObservedLicenseSetting | undefined {
  return publicSettings.observedLicense as ObservedLicenseSetting | undefined;
}

/** Install does not judge the settings (enable reports bad ones) but uses what they carry. */
async function publicSettingsIfReadable(context: OperationContext): Promise<Record<string, unknown>> {
  try {
    return (await context.loadSettings({ publicOnly: true })).publicSettings;
  } catch {
    return {};
  }
}

function installOnPeersOf(publicSettings: Record<string, unknown>): boolean {
  return (publicSettings.cluster as { installOnPeers?: boolean } | undefined)?.installOnPeers === true;
}

/**
 * The version an Azure Policy assignment asks for (major.minor). Automatic upgrade brings newer
 * minor versions of the same major, so only an older minor or another major is worth a warning.
 */
function versionMarkerNote(publicSettings: Record<string, unknown>, version: string): string {
  const marker = publicSettings.versionMarker;
  if (typeof marker !== 'string') return '';
  const [wantedMajor, wantedMinor] = marker.split('.').map(Number);
  const [major, minor] = version.split('.').map(Number);
  if (major === wantedMajor && (minor ?? 0) >= (wantedMinor ?? 0)) return '';
  return ` The settings ask for version ${marker} (versionMarker) but ${version} runs: update the extension to ${marker}, or change the marker.`;
}

function nodeName(report: LocalConvergeReport): string {
  return report.result.probe?.computerName ?? 'this node';
}

/** The audit of this node's change, when not recorded in full: the node's substatus says what and why. */
function auditNote(report: LocalConvergeReport): string {
  return auditIncomplete(report.result.audit) ? ` The audit of this change was not recorded in full on ${nodeName(report)}: see its substatus.` : '';
}

function peerNote(cluster: { problems: number }): string {
  return cluster.problems ? ` ${cluster.problems} cluster node(s) need attention (see each node).` : '';
}

/** The recorded state, or a fresh one. Unreadable state counts as none: access fails closed. */
async function currentState(store: StateStore, version: string): Promise<RecordedState> {
  const read = await store.readState();
  if (read.kind === 'ok') return read.value;
  return { schemaVersion: 1, extensionVersion: version, enabled: false };
}

function settingsNote(empty: boolean, sequenceNumber: number): string {
  return empty ? 'No settings received yet.' : `Settings ${sequenceNumber} applied.`;
}

