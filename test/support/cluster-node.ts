/** What a node of the three-node test cluster shows in its observe batch, for the pure core tests. */
import type { ObservedNode } from '../../core/node-plan';
import type { ProbeResult } from '../../windows/operations';

export const GIB = 1024 ** 3;

/** ARC-NODE-1 and ARC-NODE-2 up, ARC-NODE-3 down; an eligible Windows Server with 8 GiB unless told. */
export function clusterProbe(computerName: string, memoryBytes = 8 * GIB): ProbeResult {
  return {
    computerName,
    os: { caption: 'Microsoft Windows Server 2022 Standard', buildNumber: 20348, productType: 3, installationType: 'Server' },
    memory: { installedBytes: memoryBytes, usableBytes: memoryBytes },
    arc: {
      status: 'Connected',
      resourceId: `/subscriptions/s/resourceGroups/r/providers/Microsoft.HybridCompute/machines/${computerName}`,
      agentVersion: '1.48',
    },
    cluster: {
      name: 'CLUSTER',
      nodes: [
        { name: 'ARC-NODE-1', state: 'Up' },
        { name: 'ARC-NODE-2', state: 'Up' },
        { name: 'ARC-NODE-3', state: 'Down' },
      ],
    },
  };
}

/** A node with our groups and endpoint, the engineers named, nobody given access yet; files by path. */
export function observedNode(files: Record<string, string | null> = {}, engineers = ['CONTOSO\\eng1']): ObservedNode {
  return {
    groups: {
      engineers: { exists: true, members: engineers },
      diagnostics: { exists: true, members: [] },
      repair: { exists: true, members: [] },
    },
    endpointRegistered: true,
    openSessions: 0,
    channelAccounts: [],
    channelTokenStored: false,
    logUploadSasStored: false,
    tasks: [],
    files,
    folders: {},
  };
}
