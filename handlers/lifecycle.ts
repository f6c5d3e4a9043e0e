import type { Operation, OperationContext, OperationHandler, OperationResult } from '../extension/dispatcher';
import { protocolEnvironment } from '../extension/dispatcher';
import { describeAccess } from './access-summary';
import { dataFolder } from './data-folder';
import { checkConsentTime, isExpired, rejectExpiredNewGrant, toDesiredState } from './domain/desired-state';
import { HostBatchError } from './host/port';
import { selectHost, type HostBinding } from './host/select-host';
import { ExitCode, HandlerError } from '../extension/errors';
import type { ObservedLicenseSetting } from './license/license-source';
import { probeAndCheck, requirePrerequisites } from './phases/prerequisites';
import { StateStore, storeDesiredState, type RecordedState } from './state-store';

export interface LifecycleOptions {
  version: string;
  now?: () => Date;
  /** The Windows host and license source for a run; default chosen from the environment. */
  bindHost?: (context: OperationContext) => Promise<HostBinding>;
}

/**
 * The five lifecycle commands. Each is a short script over the state store and the desired
 * state. The upgrade protocol: the new version's `update` writes a marker naming the version it
 * replaces; the old version's `uninstall` (which the manager runs after that) sees itself named
 * and keeps everything; the new version's `install` removes the marker.
 */
export function lifecycleHandlers(options: LifecycleOptions): Record<Operation, OperationHandler> {
  const now = options.now ?? (() => new Date());
  const version = options.version;
  const storeFor = (context: OperationContext) => new StateStore(dataFolder(context.environment));
  const bindHost = options.bindHost ?? ((context: OperationContext) => selectHost(context.environment, context.extensionRoot));
  const checkPrerequisites = async (context: OperationContext, observedLicense: ObservedLicenseSetting | undefined) => {
    const binding = await bindHost(context);
    requirePrerequisites(await probeAndCheck(binding.host, binding.license, observedLicense));
  };

  // Every run is journaled, failures included, except where uninstall has removed the folder.
  const journaled =
    (handler: (context: OperationContext, store: StateStore) => Promise<OperationResult>): OperationHandler =>
    async (context) => {
      const store = storeFor(context);
      const record = (status: string, problem?: string) =>
        store.appendOperationIfPresent({
          at: now().toISOString(),
          operation: context.operation,
          version,
          sequenceNumber: context.sequenceNumber ?? null,
          status,
          ...(problem ? { problem } : {}),
          environment: protocolEnvironment(context.environment),
        });
      try {
        const result = await handler(context, store);
        await record(result.status);
        return result;
      } catch (error) {
        await record('error', (error as Error).message).catch(() => undefined);
        // A host phase that failed as a whole already says which phase and operation: report it as is.
        if (error instanceof HostBatchError) throw new HandlerError(ExitCode.Failure, error.message);
        throw error;
      }
    };

  return {
    install: journaled(async (context, store) => {
      await checkPrerequisites(context, await observedLicenseIfReadable(context));
      const marker = await store.readUpgradeMarker();
      const state = await currentState(store, version);
      await store.writeState({ ...state, extensionVersion: version });
      if (marker.kind === 'ok' && marker.value.toVersion === version) {
        await store.removeUpgradeMarker();
        return { status: 'success', message: `Installed version ${version}, completing the update from ${marker.value.fromVersion}; existing state kept.` };
      }
      return { status: 'success', message: `Installed version ${version}.` };
    }),

    enable: journaled(async (context, store) => {
      // Bad settings throw before anything is written: what was applied before stays in force.
      const settings = await context.loadSettings();
      const desired = toDesiredState(settings.publicSettings);
      const state = await currentState(store, version);
      const at = now();
      if (desired.grant) {
        checkConsentTime(desired.grant, at);
        const alreadyApplied = state.applied?.desired.grant?.grantId === desired.grant.grantId;
        if (isExpired(desired.grant, at) && !alreadyApplied) rejectExpiredNewGrant(desired.grant, at);
        // Only granting needs an eligible machine: revoking must always work.
        if (!isExpired(desired.grant, at)) await checkPrerequisites(context, observedLicenseOf(settings.publicSettings));
      }
      await store.writeState({
        ...state,
        extensionVersion: version,
        enabled: true,
        applied: {
          sequenceNumber: settings.sequenceNumber,
          appliedAt: at.toISOString(),
          desired: storeDesiredState(desired),
          protectedSettingsPresent: settings.protectedSettings !== undefined,
        },
      });
      return { status: 'success', message: `${describeAccess(desired, at)} ${settingsNote(settings.empty, settings.sequenceNumber)}` };
    }),

    update: journaled(async (context, store) => {
      const state = await currentState(store, version);
      const fromVersion = context.environment.AZURE_GUEST_AGENT_UPDATING_FROM_VERSION || state.extensionVersion;
      await store.writeUpgradeMarker({ fromVersion, toVersion: version, writtenAt: now().toISOString() });
      await store.writeState({ ...state, extensionVersion: version });
      return { status: 'success', message: `Updated from version ${fromVersion} to ${version}; state and access kept.` };
    }),

    disable: journaled(async (_context, store) => {
      const state = await currentState(store, version);
      await store.writeState({ ...state, enabled: false });
      return { status: 'success', message: `Disabled: access is off; the installation is kept.` };
    }),

    uninstall: journaled(async (_context, store) => {
      const marker = await store.readUpgradeMarker();
      if (marker.kind === 'ok' && marker.value.fromVersion === version && marker.value.toVersion !== version) {
        return { status: 'success', message: `Uninstalled version ${version} as part of the update to ${marker.value.toVersion}; state kept for it.` };
      }
      await store.removeEverything();
      return { status: 'success', message: 'Uninstalled; every trace of the extension was removed.' };
    }),
  };
}

function observedLicenseOf(publicSettings: Record<string, unknown>): ObservedLicenseSetting | undefined {
  return publicSettings.observedLicense as ObservedLicenseSetting | undefined;
}

/** Install does not judge the settings (enable reports bad ones) but uses a license they carry. */
async function observedLicenseIfReadable(context: OperationContext): Promise<ObservedLicenseSetting | undefined> {
  try {
    return observedLicenseOf((await context.loadSettings({ publicOnly: true })).publicSettings);
  } catch {
    return undefined;
  }
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

