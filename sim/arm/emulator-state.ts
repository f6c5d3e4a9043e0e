/** What the request handlers share: the stores, the operation runner, the counters and where the emulator is. */
import type { ExtensionStore } from './extension-store';
import type { OperationRunner } from './long-running-operations';
import type { MachineStore } from './machine-store';
import type { RelayStore } from './relay-store';
import type { SupportStore } from './support-store';
import type { ArmEmulatorCounters } from './types';

export interface EmulatorState {
  machines: MachineStore;
  extensions: ExtensionStore;
  relay: RelayStore;
  support: SupportStore;
  operations: OperationRunner;
  counters: ArmEmulatorCounters;
  tenantId: string;
  /** The one identity the emulator issues tokens for, as ARM names a caller in a 403. */
  principal: { objectId: string; upn: string };
  /** 'https://127.0.0.1:<port>', for the absolute URLs ARM hands out (nextLink, Location, Azure-AsyncOperation). */
  endpoint: string;
  pageSize: number;
}
