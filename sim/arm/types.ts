/** The emulator's public types: what tests and the CLI's tests code against. */
import type { TokenCredential } from '@azure/core-auth';
import type { TestRelay } from '../relay';

export type MachineStatus = 'Connected' | 'Disconnected' | 'Expired';
export type MachineLicense = 'PayAsYouGo' | 'SoftwareAssurance' | 'None';

export interface EmulatedMachineSpec {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  /** Default 'westeurope'. */
  location?: string;
  /** Default 'Connected'. Only a Connected machine runs extension operations. */
  status?: MachineStatus;
  /** Default 'windows'. */
  osName?: 'windows' | 'linux';
  tags?: Record<string, string>;
  /**
   * Default 'PayAsYouGo'. Shapes `properties.licenseProfile` and `licenseProfiles/default` as Azure
   * does for Windows machines; a Linux machine has no Windows license, so no license profile.
   */
  license?: MachineLicense;
}

export type ExtensionRunKind = 'create' | 'update' | 'delete' | 'upgrade';

export interface ExtensionRun {
  /** The machine as it is now. */
  machine: EmulatedMachineSpec;
  extensionName: string;
  kind: ExtensionRunKind;
  /**
   * The extension's configuration after the write (publisher, type, typeHandlerVersion, settings,
   * protectedSettings, enableAutomaticUpgrade, forceUpdateTag, ...); for 'upgrade' the new
   * typeHandlerVersion is set; for 'delete' the configuration being removed.
   */
  properties: Record<string, any>;
  /** The configuration before the write (null on create). */
  previousProperties: Record<string, any> | null;
}

export interface ExtensionInstanceView {
  name?: string;
  type?: string;
  typeHandlerVersion?: string;
  status: { code: string; level: 'Info' | 'Warning' | 'Error'; displayStatus?: string; message: string; time?: string };
}

export interface ExtensionRunResult {
  provisioningState: 'Succeeded' | 'Failed';
  instanceView?: ExtensionInstanceView;
}

/** A Microsoft.Relay namespace, read-only in the emulator: seeded, never created through ARM. */
export interface EmulatedRelayNamespaceSpec {
  subscriptionId: string;
  resourceGroup: string;
  /** 6 to 50 characters; unique across the emulator, as Azure's namespace names are unique worldwide. */
  name: string;
  /** Default 'westeurope'. */
  location?: string;
  tags?: Record<string, string>;
}

/**
 * What the emulator drives on a test relay (sim/relay) attached to a namespace: hybrid connections
 * created and deleted through ARM, rules' keys pushed as they change, listeners counted.
 */
export type AttachedRelay = Pick<TestRelay, 'host' | 'createHybridConnection' | 'deleteHybridConnection' | 'putRule'> & {
  counters: Pick<TestRelay['counters'], 'openListeners'>;
};

export type SupportTicketStatus = 'Open' | 'Closed';
export type SupportTicketSeverity = 'minimal' | 'moderate' | 'critical' | 'highestcriticalimpact';

/** A Microsoft.Support ticket at subscription scope, as the operator's tests seed it (read-only through ARM). */
export interface EmulatedSupportTicketSpec {
  /** The ticket's resource name. */
  name: string;
  status: SupportTicketStatus;
  title: string;
  /** Default: the title. */
  description?: string;
  /** Default: a number derived from the time of seeding, as Azure's are. */
  supportTicketId?: string;
  /** Default 'moderate'. */
  severity?: SupportTicketSeverity;
  /** Default: the Azure Arc enabled servers service. */
  serviceId?: string;
  /** Default: a problem classification of that service. */
  problemClassificationId?: string;
  /** ISO 8601; default: when it was seeded. Lists are newest first. */
  createdDate?: string;
  /** The Azure resource the ticket is about, e.g. an Arc machine's id. */
  resourceId?: string;
  /** Default: the emulated owner (owner@contoso.example). */
  contactEmail?: string;
}

export interface ArmEmulatorOptions {
  machines: EmulatedMachineSpec[];
  relayNamespaces?: EmulatedRelayNamespaceSpec[];
  supportTickets?: Array<EmulatedSupportTicketSpec & { subscriptionId: string }>;
  /** Per subscription; counts PUT/PATCH/DELETE/POST. Default: no limit. */
  writeBucket?: { burst: number; refillPerSecond: number };
  /** How long a long-running operation stays InProgress before runExtension is called (default 30). */
  operationMs?: number;
  /** What the machine's extension manager does with a write. Default: Succeeded with a plain instance view. */
  runExtension?: (run: ExtensionRun) => Promise<ExtensionRunResult>;
  /** Record traffic for validateTraffic (default true). */
  validate?: boolean;
  /** Machines per page in list responses before a nextLink (default 100). */
  pageSize?: number;
}

export interface TrafficRecord {
  method: string;
  /** The absolute URL the client asked for. */
  url: string;
  requestHeaders: Record<string, string>;
  requestBody: unknown;
  status: number;
  responseHeaders: Record<string, string>;
  responseBody: unknown;
}

export interface ArmEmulatorCounters {
  /** Writes (PUT/PATCH/DELETE/POST) that passed authentication, api-version and the write throttle. */
  writes: number;
  throttled: number;
  conflicts: number;
  unauthorized: number;
}

export interface ArmEmulator {
  /** 'https://127.0.0.1:<port>' (TLS with a certificate made at start with openssl; its CA in caFile). */
  endpoint: string;
  caFile: string;
  /** PEM. */
  ca: string;
  /**
   * Env vars for a child process so that DefaultAzureCredential gets a token from the emulator through
   * the real Azure Arc managed identity flow: IDENTITY_ENDPOINT, IMDS_ENDPOINT, NODE_EXTRA_CA_CERTS.
   */
  credentialEnvironment(): Record<string, string>;
  /** A TokenCredential for in-process use of the SDK (returns the emulator's token). */
  credential: TokenCredential;
  traffic: TrafficRecord[];
  counters: ArmEmulatorCounters;
  machine(subscriptionId: string, resourceGroup: string, name: string): EmulatedMachineSpec | undefined;
  /** A machine that becomes Connected runs the operations queued while it was away. */
  setMachineStatus(subscriptionId: string, resourceGroup: string, name: string, status: MachineStatus): void;
  /** Azure's view of the machine's license changes (e.g. Software Assurance attested). */
  setMachineLicense(subscriptionId: string, resourceGroup: string, name: string, license: MachineLicense): void;
  /** Changes the write limit (or removes it); every subscription starts again with a full bucket. */
  setWriteBucket(bucket: { burst: number; refillPerSecond: number } | undefined): void;
  /** A machine onboarded to Arc after the emulator started. */
  addMachine(spec: EmulatedMachineSpec): void;
  /** The stored resource as GET returns it. */
  extension(subscriptionId: string, resourceGroup: string, machine: string, extensionName: string): Record<string, any> | undefined;
  /** A Relay namespace created after the emulator started (throws if its name is taken). */
  addRelayNamespace(spec: EmulatedRelayNamespaceSpec): void;
  /**
   * Makes `relay` the namespace's data plane: its host becomes the namespace's endpoint, the hybrid
   * connections and rules the namespace already has are created there, and from now on ARM writes
   * reach it (PUT creates, DELETE closes its sockets with 1001, rule writes push the keys).
   */
  attachRelay(namespaceName: string, relay: AttachedRelay): void;
  /** A support ticket in the subscription (throws if its name is taken there). */
  addSupportTicket(subscriptionId: string, ticket: EmulatedSupportTicketSpec): void;
  /** Changes a seeded ticket's status, as Azure Support closing or reopening it. */
  setSupportTicketStatus(subscriptionId: string, name: string, status: SupportTicketStatus): void;
  /**
   * Whether the emulator's identity may read support tickets in the subscription (default true).
   * When false, GET and LIST answer 403 AuthorizationFailed, as ARM does for a caller without the
   * Microsoft.Support/supportTickets/read permission at subscription scope. The emulator issues
   * tokens for one identity only, so the switch is per subscription, not per caller.
   */
  setSupportTicketReadAccess(subscriptionId: string, allowed: boolean): void;
  /**
   * Validates every recorded request and response with oav against the API documents of
   * HybridCompute, Relay and Support; human-readable problems (empty when all valid).
   */
  validateTraffic(): Promise<string[]>;
  close(): Promise<void>;
}
