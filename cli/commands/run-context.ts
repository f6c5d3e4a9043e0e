import type { ArcMachines } from '../arm/arc-machines';
import type { ProtectedSettings } from '../settings/protected-settings';

/** The extension as Azure names it; from manifests/extension.yaml. */
export interface ExtensionIdentity {
  publisher: string;
  type: string;
  version: string;
  /** The extension resource's name on each machine. */
  name: string;
}

/** What every per-machine step needs; one per run, shared by all targets. */
export interface RunContext {
  api: ArcMachines;
  now: () => Date;
  extension: ExtensionIdentity;
  protectedSettings?: ProtectedSettings;
  /** New for every run, so the handler runs even when the settings did not change. */
  forceUpdateTag: string;
}

/** `ArcRemoteSupport.WindowsRemoteSupport`: the key Azure's upgradeExtensions expects. */
export function extensionKey(extension: ExtensionIdentity): string {
  return `${extension.publisher}.${extension.type}`;
}

/** Arc's typeHandlerVersion is major.minor; the patch is chosen by Azure (automatic upgrade). */
export function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
