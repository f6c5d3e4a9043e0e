import type { ArcMachines } from '../arm/arc-machines';
import type { GrantKeyPair, GrantKeyStore } from '../channel/grant-key-store';
import type { RelayNamespaces, ResolvedNamespace } from '../channel/relay-namespaces';
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
  /** The relay control plane and the owner's key store: grant, revoke, status, cleanup-channels. */
  relay?: RelayContext;
}

export interface RelayContext {
  api: RelayNamespaces;
  store: GrantKeyStore;
  /** The namespace named by --relay-namespace (or configuration), when there is one. */
  namespace?: ResolvedNamespace;
  /** For grant with a channel: the grant's key pair and the ticket's shape. */
  grant?: GrantChannelContext;
}

export interface GrantChannelContext {
  namespace: ResolvedNamespace;
  keys: GrantKeyPair;
  engineer: string;
  nodes?: string[];
  /** The ticket file for a one-machine grant; otherwise one per machine in ticketsFolder. */
  ticketFile?: string;
  ticketsFolder: string;
  /** Prints a ticket when the owner asked for it (--show-ticket). */
  showTicket?: (machine: string, ticketText: string) => void;
}

/** `ArcRemoteSupport.WindowsRemoteSupport`: the key Azure's upgradeExtensions expects. */
export function extensionKey(extension: ExtensionIdentity): string {
  return `${extension.publisher}.${extension.type}`;
}

/** Arc's typeHandlerVersion is major.minor; the patch is chosen by Azure (automatic upgrade). */
export function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
