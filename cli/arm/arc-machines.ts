/**
 * The Azure calls the commands need, over the HybridCompute SDK, in the CLI's own small types.
 * Every call has a deadline; writes use the SDK's long-running operations to the end.
 */
import type { HybridComputeManagementClient, Machine, MachineExtension } from '@azure/arm-hybridcompute';
import { createPipelineRequest, isRestError } from '@azure/core-rest-pipeline';
import type { MachineLicenseProfile } from '../../core/interpret-license';
import { machineId, type MachineRef } from '../input/azure-names';
import { ARM_API_VERSION } from './api-version-policy';
import { withDeadline } from './deadline';
import { AUTOMATIC_UPGRADE_HEADER } from './extension-body-policy';

export interface MachineView {
  ref: MachineRef;
  location: string;
  status?: string;
  osName?: string;
  computerName?: string;
  tags: Record<string, string>;
  /** `properties.licenseProfile` as the machine resource reports it (2024-07-10). */
  licenseProfile?: MachineLicenseProfile;
}

export interface ExtensionView {
  provisioningState?: string;
  publisher?: string;
  type?: string;
  typeHandlerVersion?: string;
  settings?: Record<string, unknown>;
  /** The handler's status message, as the extension manager reported it. */
  message?: string;
  statusCode?: string;
  statusLevel?: string;
}

/** What an extension write sends; protected settings only when the CLI has some. */
export interface ExtensionWrite {
  settings: Record<string, unknown>;
  protectedSettings?: Record<string, unknown>;
  forceUpdateTag: string;
}

export interface ExtensionDefinition extends ExtensionWrite {
  location: string;
  publisher: string;
  type: string;
  typeHandlerVersion: string;
}

export type LicenseRead = { found: true; profile: MachineLicenseProfile } | { found: false; reason: string };

export class ArcMachines {
  constructor(
    private readonly client: (subscriptionId: string) => HybridComputeManagementClient,
    private readonly endpoint: string,
    private readonly timeoutMs: number,
    private readonly extensionName: string,
    private readonly pollIntervalMs?: number,
  ) {}

  async getMachine(ref: MachineRef): Promise<MachineView | undefined> {
    const machine = await this.read(`Reading machine ${ref.name}`, undefined, (abortSignal) =>
      this.client(ref.subscriptionId).machines.get(ref.resourceGroup, ref.name, { expand: 'instanceView', abortSignal }),
    );
    return machine && { ...toMachineView(machine, ref), ref };
  }

  async listMachines(subscriptionId: string, resourceGroup: string): Promise<MachineView[]> {
    return withDeadline(`Listing machines of resource group ${resourceGroup}`, this.timeoutMs, false, async (abortSignal) => {
      const machines: MachineView[] = [];
      for await (const machine of this.client(subscriptionId).machines.listByResourceGroup(resourceGroup, { abortSignal })) {
        machines.push(toMachineView(machine, { subscriptionId, resourceGroup }));
      }
      return machines;
    });
  }

  /** The license profile resource; the SDK release predates it, so this is a plain request. */
  async getLicenseProfile(ref: MachineRef): Promise<LicenseRead> {
    const client = this.client(ref.subscriptionId);
    return withDeadline(`Reading the license of ${ref.name}`, this.timeoutMs, false, async (abortSignal) => {
      const request = createPipelineRequest({
        url: `${this.endpoint}${machineId(ref)}/licenseProfiles/default?api-version=${ARM_API_VERSION}`,
        method: 'GET',
        abortSignal,
      });
      const response = await client.sendRequest(request);
      if (response.status === 200) {
        const body = JSON.parse(response.bodyAsText ?? '{}') as { properties?: MachineLicenseProfile };
        return { found: true, profile: body.properties ?? {} };
      }
      return { found: false, reason: `licenseProfiles/default answered ${response.status}${errorCode(response.bodyAsText)}` };
    });
  }

  async getExtension(ref: MachineRef, timeoutMs?: number): Promise<ExtensionView | undefined> {
    const extension = await this.read(`Reading the extension on ${ref.name}`, timeoutMs, (abortSignal) =>
      this.client(ref.subscriptionId).machineExtensions.get(ref.resourceGroup, ref.name, this.extensionName, { abortSignal }),
    );
    return extension && toExtensionView(extension);
  }

  async createOrUpdateExtension(ref: MachineRef, definition: ExtensionDefinition): Promise<ExtensionView> {
    const body: MachineExtension = {
      location: definition.location,
      properties: {
        publisher: definition.publisher,
        type: definition.type,
        typeHandlerVersion: definition.typeHandlerVersion,
        autoUpgradeMinorVersion: true,
        forceUpdateTag: definition.forceUpdateTag,
        settings: definition.settings,
        ...(definition.protectedSettings ? { protectedSettings: definition.protectedSettings } : {}),
      },
    };
    const result = await this.write(`Deploying the extension on ${ref.name}`, (options) =>
      this.client(ref.subscriptionId).machineExtensions.beginCreateOrUpdateAndWait(ref.resourceGroup, ref.name, this.extensionName, body, {
        ...options,
        requestOptions: { customHeaders: { [AUTOMATIC_UPGRADE_HEADER]: 'true' } },
      }),
    );
    return toExtensionView(result);
  }

  async updateExtension(ref: MachineRef, update: ExtensionWrite): Promise<ExtensionView> {
    const result = await this.write(`Updating the extension on ${ref.name}`, (options) =>
      this.client(ref.subscriptionId).machineExtensions.beginUpdateAndWait(
        ref.resourceGroup,
        ref.name,
        this.extensionName,
        {
          properties: {
            forceUpdateTag: update.forceUpdateTag,
            settings: update.settings,
            ...(update.protectedSettings ? { protectedSettings: update.protectedSettings } : {}),
          },
        },
        options,
      ),
    );
    return toExtensionView(result);
  }

  async deleteExtension(ref: MachineRef): Promise<void> {
    await this.write(`Removing the extension from ${ref.name}`, (options) =>
      this.client(ref.subscriptionId).machineExtensions.beginDeleteAndWait(ref.resourceGroup, ref.name, this.extensionName, options),
    );
  }

  async upgradeExtension(ref: MachineRef, extensionKey: string, targetVersion: string): Promise<void> {
    await this.write(`Upgrading the extension on ${ref.name}`, (options) =>
      this.client(ref.subscriptionId).beginUpgradeExtensionsAndWait(
        ref.resourceGroup,
        ref.name,
        { extensionTargets: { [extensionKey]: { targetVersion } } },
        options,
      ),
    );
  }

  /** A GET whose 404 means "not there". */
  private async read<T>(
    operation: string,
    timeoutMs: number | undefined,
    run: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await withDeadline(operation, Math.min(timeoutMs ?? this.timeoutMs, this.timeoutMs), false, run);
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  private write<T>(operation: string, run: (options: { abortSignal: AbortSignal; updateIntervalInMs?: number }) => Promise<T>): Promise<T> {
    return withDeadline(operation, this.timeoutMs, true, (abortSignal) =>
      run({ abortSignal, ...(this.pollIntervalMs === undefined ? {} : { updateIntervalInMs: this.pollIntervalMs }) }),
    );
  }
}

/** The machine's own id names it; the scope it was read from is the fallback. */
function toMachineView(machine: Machine, scope: { subscriptionId: string; resourceGroup: string; name?: string }): MachineView {
  const properties = (machine.properties ?? {}) as NonNullable<Machine['properties']> & { licenseProfile?: MachineLicenseProfile };
  const parts = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i.exec(machine.id ?? '');
  return {
    ref: {
      subscriptionId: parts?.[1]?.toLowerCase() ?? scope.subscriptionId,
      resourceGroup: parts?.[2] ?? scope.resourceGroup,
      name: machine.name ?? scope.name ?? '',
    },
    location: machine.location,
    status: properties.status,
    osName: properties.osName,
    computerName: properties.osProfile?.computerName,
    tags: machine.tags ?? {},
    licenseProfile: properties.licenseProfile,
  };
}

function toExtensionView(extension: MachineExtension): ExtensionView {
  const properties = extension.properties ?? {};
  const status = properties.instanceView?.status;
  return {
    provisioningState: properties.provisioningState,
    publisher: properties.publisher,
    type: properties.type,
    typeHandlerVersion: properties.typeHandlerVersion,
    settings: properties.settings,
    message: status?.message,
    statusCode: status?.code,
    statusLevel: status?.level,
  };
}

function errorCode(body: string | null | undefined): string {
  try {
    const code = (JSON.parse(body ?? '') as { error?: { code?: string } }).error?.code;
    return code ? ` ${code}` : '';
  } catch {
    return '';
  }
}
