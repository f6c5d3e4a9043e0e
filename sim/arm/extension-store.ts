/**
 * Machine extensions as stored, and as ARM shows them: the configuration including protected
 * settings is kept (the machine needs them), but protected settings never leave in a response.
 */
import { machineResourceId, type MachineRecord } from './machine-store';
import type { ExtensionInstanceView } from './types';

export type ExtensionProvisioningState = 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed';

export interface StoredExtension {
  machine: MachineRecord;
  /** As first created: ARM keeps a resource name's casing. */
  name: string;
  location: string;
  tags?: Record<string, string>;
  /** publisher, type, typeHandlerVersion, settings, protectedSettings, enableAutomaticUpgrade, ... */
  configuration: Record<string, any>;
  provisioningState: ExtensionProvisioningState;
  instanceView?: ExtensionInstanceView;
}

export class ExtensionStore {
  private readonly extensions = new Map<string, StoredExtension>();

  find(machine: MachineRecord, name: string): StoredExtension | undefined {
    return this.extensions.get(extensionKey(machine, name));
  }

  /** The machine's extensions in creation order. */
  list(machine: MachineRecord): StoredExtension[] {
    const prefix = `${machine.key}/`;
    return [...this.extensions.entries()].filter(([key]) => key.startsWith(prefix)).map(([, extension]) => extension);
  }

  save(extension: StoredExtension): void {
    this.extensions.set(extensionKey(extension.machine, extension.name), extension);
  }

  remove(extension: StoredExtension): void {
    this.extensions.delete(extensionKey(extension.machine, extension.name));
  }
}

function extensionKey(machine: MachineRecord, name: string): string {
  return `${machine.key}/${name.toLowerCase()}`;
}

/** The resource as GET, LIST and write responses return it. */
export function extensionResource(extension: StoredExtension): Record<string, any> {
  const { protectedSettings: _writeOnly, ...visible } = extension.configuration;
  return {
    id: `${machineResourceId(extension.machine)}/extensions/${extension.name}`,
    name: extension.name,
    type: 'Microsoft.HybridCompute/machines/extensions',
    location: extension.location,
    ...(extension.tags ? { tags: { ...extension.tags } } : {}),
    properties: structuredClone({
      ...visible,
      provisioningState: extension.provisioningState,
      ...(extension.instanceView ? { instanceView: extension.instanceView } : {}),
    }),
  };
}
