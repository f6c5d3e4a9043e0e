import { readChannelSettings } from './channel-settings';
import type { Operation, OperationContext, OperationHandler, OperationResult } from '../extension/dispatcher';
import { protocolEnvironment } from '../extension/dispatcher';
import { describeAccess } from '../core/access-summary';
import { dataFolder } from './data-folder';
import { checkConsentTime, formatUtc, isExpired, rejectExpiredNewGrant, toDesiredState, type DesiredState } from '../core/desired-state';
import {
  DISABLE_CHANGED_BY,
  endedGrantBlocking,
  mergeEndedGrants,
  refuseEndedGrant,
  withoutUpdateDisable,
  type EndedGrant,
} from '../core/ended-grants';
import { grantInForce } from '../core/node-intent';
import { isHostBatchError } from '../windows/port';
import { composeNode, type NodeAdapters } from './compose';
import { ExitCode, HandlerError } from '../extension/errors';
import type { ObservedLicenseSetting } from './license/license-source';
import type { DesiredRecord } from '../core/desired-record';
import { EVENT_SOURCE, LAST_LOG_COLLECTION_FILE } from '../core/node-layout';
import { describeLastLogCollection } from '../core/last-log-collection';
import { agentInstallation } from './phases/agent-files';
import { JEA_NODE_FILE_PATHS, loadJeaDefinition } from './phases/jea-files';
import { convergeLocalNode, type LocalConvergeReport, type LocalConvergeRequest } from './phases/local-node';
import { convergeCluster, type ClusterRequest } from './phases/cluster-peers';
import { endedGrantsOf, StateStore, storeDesiredState, withEndedGrantsCopy, type RecordedState } from './state-store';
import { auditIncomplete } from '../core/pending-audit';
import type { NodeRequest } from '../core/decide-node';
import type { LogUploadSettings } from './log-upload-settings';

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
 * and keeps everything; the new version's `install` removes the marker. The old version's
 * `disable`, which the manager runs first, ended the grant in force like any disable: that
 * `install` lifts the end (core/ended-grants.ts), so the grant survives the update.
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
        if (isHostBatchError(error)) throw new HandlerError(ExitCode.Failure, error.message);
        throw error;
      }
    };

  const jeaFor = (context: OperationContext) => (computerName: string) => loadJeaDefinition(context.extensionRoot, computerName);
  const agentFor = (context: OperationContext) => () => agentInstallation(context.extensionRoot, version);
  const converge = async (context: OperationContext, request: Omit<LocalConvergeRequest, 'jea' | 'jeaFilePaths' | 'agent'>) =>
    convergeLocalNode(await bindHost(context), {
      ...request,
      jea: jeaFor(context),
      jeaFilePaths: JEA_NODE_FILE_PATHS,
      agent: agentFor(context),
    });
  const failIfNodeFailed = (report: LocalConvergeReport, message: string) => {
    const failure = report.result.failure;
    if (failure)
      throw new HandlerError(ExitCode.Failure, `${message} failed at '${failure.step.description}': ${failure.message}`, report.substatus);
  };

  /** After the local node, the cluster's other nodes; the substatus of every node, local first. */
  const withPeers = async (
    context: OperationContext,
    state: RecordedState,
    local: LocalConvergeReport,
    request: Omit<ClusterRequest, 'jea' | 'jeaFilePaths' | 'agent'>,
  ) => {
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
      const state = await currentState(store, version);
      // Completing an update: the disable the manager ran just before it (its first step) ended no grant.
      const updatedAt = marker.kind === 'ok' && marker.value.toVersion === version ? updateTime(marker.value.writtenAt) : undefined;
      const ended = updatedAt ? withoutUpdateDisable(endedGrantsOf(state), updatedAt) : endedGrantsOf(state);
      // Installs the JEA module, groups, endpoint, tasks and data folder; keeps any access already recorded.
      const request = {
        phase: 'install',
        now: at,
        target: (current: DesiredRecord) => current,
        changedBy: 'install',
        checkPrerequisites: 'always' as const,
        // A data folder made before install (by anyone) gets SYSTEM-and-Administrators-only rights.
        resetFolderRights: true,
        ...(updatedAt ? { updatedAt } : {}),
      };
      const report = await converge(context, { ...request, endedGrants: ended, observedLicense: observedLicenseOf(publicSettings) });
      failIfNodeFailed(report, 'Install');
      const cluster = await withPeers(context, state, report, { ...request, mode: installOnPeersOf(publicSettings) ? 'cover' : 'release' });
      await store.writeState(
        withEndedGrantsCopy({ ...state, extensionVersion: version, coveredPeers: cluster.coveredPeers }, endedAfter(at, ended, report)),
      );
      const status = cluster.problems || auditIncomplete(report.result.audit) ? 'warning' : 'success';
      if (marker.kind === 'ok' && marker.value.toVersion === version) {
        await store.removeUpgradeMarker();
        return {
          status,
          message: `Installed version ${version}, completing the update from ${marker.value.fromVersion}; existing state kept.${auditNote(report)}${peerNote(cluster)}`,
          substatus: cluster.substatus,
        };
      }
      return { status, message: `Installed version ${version}.${auditNote(report)}${peerNote(cluster)}`, substatus: cluster.substatus };
    }),

    enable: journaled(async (context, store, at) => {
      // Bad settings throw before anything is written: what was applied before stays in force.
      const settings = await context.loadSettings();
      const desired = toDesiredState(settings.publicSettings);
      const state = await currentState(store, version);
      const ended = endedGrantsOf(state);
      if (desired.grant) {
        checkConsentTime(desired.grant, at);
        // A grant that ended here never comes back, whatever the manager replays (the node's own list is checked too).
        const refused = endedGrantBlocking(desired.grant, ended, at);
        if (refused) refuseEndedGrant(refused);
        const alreadyApplied = state.applied?.desired.grant?.grantId === desired.grant.grantId;
        if (isExpired(desired.grant, at) && !alreadyApplied) rejectExpiredNewGrant(desired.grant, at);
      }
      // Settings without an access section ask nothing about access: each node keeps the grant it has.
      const target = desired.accessStated
        ? () => ({ enabled: true, retentionDays: desired.retentionDays, grant: desired.grant ?? null })
        : (current: DesiredRecord): DesiredRecord => ({ ...current, enabled: true, retentionDays: desired.retentionDays });
      const request = {
        phase: 'enable',
        now: at,
        target,
        changedBy: desired.grant?.consent.acceptedBy ?? 'extension settings',
        // Only giving access needs an eligible machine: revoking must always work.
        checkPrerequisites: 'when-granting' as const,
        refuseEndedGrant: desired.grant !== undefined,
      };
      // The grant's channel, one hybrid connection per node; checked before anything is applied.
      const channels = readChannelSettings(settings.publicSettings, settings.protectedSettings, desired.grant, at);
      // The owner's log collection: checked, and refused while another runs, before anything is applied.
      const adapters = await bindHost(context);
      const asked = settings.publicSettings.logCollection !== undefined || settings.protectedSettings?.logCollection !== undefined;
      const uploadGiven = desired.grant !== undefined && settings.protectedSettings?.logUpload !== undefined;
      const collection = asked || uploadGiven ? await import('./log-collection') : undefined;
      // The grant's consent to engineers' log uploads, for every node: given, kept (no protected settings), or none.
      const logUpload: NodeLogUpload = uploadGiven
        ? uploadRequest(
            collection!.readLogUploadSettings(settings.protectedSettings, desired.grant, at, {
              allowStorageEmulator: adapters.logCollection?.allowStorageEmulator === true,
            }),
          )
        : desired.grant && settings.protectedSettings === undefined
          ? { keepLogUpload: true }
          : {};
      const logCollection = collection?.readLogCollectionSettings(settings.publicSettings, settings.protectedSettings, at, {
        allowStorageEmulator: adapters.logCollection?.allowStorageEmulator === true,
      });
      const collectionState = logCollection
        ? await collection!.checkLogCollectionRequest(adapters.host, logCollection.request, at)
        : undefined;
      const report = await converge(context, {
        ...request,
        ...(channels === 'keep' ? { keepChannel: true } : channels ? { channels } : {}),
        ...logUpload,
        endedGrants: ended,
        observedLicense: observedLicenseOf(settings.publicSettings),
      });
      failIfNodeFailed(report, 'Enable');
      if (logCollection && collectionState?.kind === 'new') await collection!.submitLogCollectionRequest(adapters.host, logCollection, at);
      const cluster = await withPeers(context, state, report, {
        ...request,
        ...(channels === 'keep' ? { keepChannel: true } : channels ? { channels } : {}),
        ...logUpload,
        mode: installOnPeersOf(settings.publicSettings) ? 'cover' : 'release',
      });
      // What this node has now: without an access section, the grant it kept.
      const applied: DesiredState = desired.accessStated
        ? desired
        : { ...desired, grant: report.record ? grantInForce(report.record, at) : undefined };
      await store.writeState(
        withEndedGrantsCopy(
          {
            ...state,
            extensionVersion: version,
            enabled: true,
            coveredPeers: cluster.coveredPeers,
            applied: {
              sequenceNumber: settings.sequenceNumber,
              appliedAt: at.toISOString(),
              desired: storeDesiredState(applied),
              protectedSettingsPresent: settings.protectedSettings !== undefined,
            },
          },
          endedAfter(at, ended, report),
        ),
      );
      const note = settingsNote(settings, desired, applied, state.applied !== undefined);
      const pinned = versionMarkerNote(settings.publicSettings, version);
      const warned =
        note.warn || pinned !== '' || auditIncomplete(report.result.audit) || cluster.substatus.some((item) => item.status !== 'success');
      return {
        status: warned ? 'warning' : 'success',
        message: `${describeAccess(applied, at)} ${note.text}${pinned}${logCollectionNote(logCollection?.request.collectionId, collectionState)}${lastCollectionNote(report)}${auditNote(report)}${peerNote(cluster)}`,
        substatus: cluster.substatus,
      };
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
      const request = {
        phase: 'disable',
        now: at,
        target: (current: DesiredRecord) => ({ ...current, enabled: false }),
        changedBy: DISABLE_CHANGED_BY,
        checkPrerequisites: 'never' as const,
      };
      const ended = endedGrantsOf(state);
      const report = await converge(context, { ...request, endedGrants: ended });
      failIfNodeFailed(report, 'Disable');
      const cluster = await withPeers(context, state, report, { ...request, mode: 'keep' });
      await store.writeState(
        withEndedGrantsCopy({ ...state, enabled: false, coveredPeers: cluster.coveredPeers }, endedAfter(at, ended, report)),
      );
      const status = cluster.problems || auditIncomplete(report.result.audit) ? 'warning' : 'success';
      return {
        status,
        message: `Disabled: access is off; the installation is kept.${auditNote(report)}${peerNote(cluster)}`,
        substatus: cluster.substatus,
      };
    }),

    uninstall: journaled(async (context, store, at) => {
      const marker = await store.readUpgradeMarker();
      if (marker.kind === 'ok' && marker.value.fromVersion === version && marker.value.toVersion !== version) {
        return {
          status: 'success',
          message: `Uninstalled version ${version} as part of the update to ${marker.value.toVersion}; state kept for it.`,
        };
      }
      // Read before the node is cleaned: on Windows the node's data folder is this state's folder too.
      const state = await currentState(store, version);
      const report = await converge(context, {
        phase: 'uninstall',
        now: at,
        target: 'remove',
        changedBy: 'uninstall',
        checkPrerequisites: 'never',
      });
      failIfNodeFailed(report, 'Uninstall');
      const cluster = await withPeers(context, state, report, {
        phase: 'uninstall',
        now: at,
        target: (current) => current,
        changedBy: 'uninstall',
        checkPrerequisites: 'never',
        mode: 'release',
      });
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
        return {
          status: 'warning',
          message: `Uninstalled from this node; ${cluster.problems} covered peer(s) could not be cleaned (see each node). ${KEPT_AFTER_UNINSTALL}`,
          substatus: cluster.substatus,
        };
      }
      return {
        status: 'success',
        message: `Uninstalled: access is off, and the groups, JEA endpoint and module, scheduled tasks, agent, owner's module, state, history and transcripts were removed. ${KEPT_AFTER_UNINSTALL}`,
        substatus: cluster.substatus,
      };
    }),
  };
}

/**
 * What uninstall leaves on purpose: the audit record. Removing the event source would make Event
 * Viewer unable to show those entries, so its registration stays with them.
 */
export const KEPT_AFTER_UNINSTALL =
  `Kept by design as the audit record: the entries of source '${EVENT_SOURCE}' in the Windows Application event log ` +
  '(every access change, uninstall included, kept as long as that log keeps entries) and the registration of that source, which Event Viewer needs to show them. ' +
  "The extension manager's own folders (settings, status and this handler's log) are the manager's to remove.";

/** Whether a newer version's update named this version as the one it replaces. */
async function isBeingReplaced(store: StateStore, version: string): Promise<boolean> {
  const marker = await store.readUpgradeMarker();
  return marker.kind === 'ok' && marker.value.fromVersion === version && marker.value.toVersion !== version;
}

type NodeLogUpload = Pick<NodeRequest, 'logUpload' | 'keepLogUpload'>;

function uploadRequest(settings: LogUploadSettings | 'keep' | undefined): NodeLogUpload {
  if (settings === 'keep') return { keepLogUpload: true };
  return settings ? { logUpload: settings } : {};
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
  return auditIncomplete(report.result.audit)
    ? ` The audit of this change was not recorded in full on ${nodeName(report)}: see its substatus.`
    : '';
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

/**
 * What the settings did, after the access line. Settings without an access section leave a grant
 * in force as it is: say so, and how to revoke, rather than "no settings yet".
 */
function settingsNote(
  settings: { empty: boolean; sequenceNumber: number },
  desired: DesiredState,
  applied: DesiredState,
  appliedBefore: boolean,
): { text: string; warn: boolean } {
  const { empty, sequenceNumber } = settings;
  if (desired.accessStated) return { text: `Settings ${sequenceNumber} applied.`, warn: false };
  const what = empty ? `Settings ${sequenceNumber} are empty` : `Settings ${sequenceNumber} carry no access section`;
  if (applied.grant) {
    const { grantId, expiresAt } = applied.grant;
    return {
      text: `${what}: grant ${grantId} stays in force until ${formatUtc(expiresAt)}; set access.level to None to revoke it.`,
      warn: true,
    };
  }
  if (empty && !appliedBefore) return { text: 'No settings received yet.', warn: false };
  return { text: `${what}; no grant is in force.`, warn: false };
}

/** What enable did with the owner's log collection request on this node. */
function logCollectionNote(collectionId: string | undefined, state: { kind: string } | undefined): string {
  if (!collectionId || !state) return '';
  if (state.kind === 'done') return ` Log collection ${collectionId} has already run: its record is in the log collection history.`;
  if (state.kind === 'same-waiting') return ` Log collection ${collectionId} is waiting or running.`;
  return ` Log collection ${collectionId} requested: the CollectLogs task collects and uploads within a minute.`;
}

/**
 * How this node's last log collection ended, read in the observe batch: Azure refreshes the
 * extension's status only when the handler runs, so each enable says it (`status --refresh`).
 */
function lastCollectionNote(report: LocalConvergeReport): string {
  const last = describeLastLogCollection(report.result.observed.files[LAST_LOG_COLLECTION_FILE] ?? null);
  return last ? ` ${last[0]!.toUpperCase()}${last.slice(1)}.` : '';
}

/** This node's ended grants after a run: the state's copy and the node's record, together. */
function endedAfter(at: Date, ended: EndedGrant[], report: LocalConvergeReport): EndedGrant[] {
  return mergeEndedGrants(at, ended, report.record?.endedGrants);
}

/** The update marker's time; an unreadable one lifts nothing. */
function updateTime(writtenAt: string): Date | undefined {
  const time = new Date(writtenAt);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
