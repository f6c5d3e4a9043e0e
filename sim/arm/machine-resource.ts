/**
 * Machines and license profiles as the 2024-07-10 API shapes them (definitions Machine,
 * LicenseProfileMachineInstanceView and LicenseProfile of HybridCompute.json).
 */
import { machineResourceId, type MachineRecord } from './machine-store';

/** When the emulated Pay-as-you-go enrollment began: any fixed past date will do. */
const ENROLLED_AT = '2024-09-01T08:00:00.000Z';

const OS_DETAILS = {
  windows: { osVersion: '10.0.20348.2849', osSku: 'Windows Server 2022 Datacenter', osEdition: 'ServerDatacenter' },
  linux: { osVersion: '5.15.0-1057-azure', osSku: 'Ubuntu 22.04.4 LTS', osEdition: 'Ubuntu' },
} as const;

export function machineResource(machine: MachineRecord, tenantId: string): Record<string, unknown> {
  const os = OS_DETAILS[machine.osName];
  const licenseProfile = machineLicenseProfile(machine);
  return {
    id: machineResourceId(machine),
    name: machine.name,
    type: 'Microsoft.HybridCompute/machines',
    location: machine.location,
    tags: { ...machine.tags },
    identity: { type: 'SystemAssigned', principalId: machine.vmId, tenantId },
    properties: {
      provisioningState: 'Succeeded',
      status: machine.status,
      lastStatusChange: machine.lastStatusChange,
      agentVersion: '1.48.02881.1941',
      displayName: machine.name,
      machineFqdn: `${machine.name}.contoso.example`,
      osName: machine.osName,
      osType: machine.osName,
      ...os,
      vmId: machine.vmId,
      vmUuid: machine.vmId.toUpperCase(),
      ...(licenseProfile ? { licenseProfile } : {}),
    },
  };
}

/** `properties.licenseProfile` of the machine; a Linux machine has no Windows license to report. */
function machineLicenseProfile(machine: MachineRecord): Record<string, unknown> | undefined {
  if (machine.osName !== 'windows') return undefined;
  return { licenseStatus: 'Licensed', licenseChannel: 'Retail', ...licenseDetails(machine) };
}

/**
 * The machine's `licenseProfiles/default` resource. Azure has one only where a license was set up
 * (Software Assurance attested or Pay-as-you-go enrolled), so None and Linux machines have none.
 */
export function licenseProfileResource(machine: MachineRecord): Record<string, unknown> | undefined {
  if (machine.osName !== 'windows' || machine.license === 'None') return undefined;
  return {
    id: `${machineResourceId(machine)}/licenseProfiles/default`,
    name: 'default',
    type: 'Microsoft.HybridCompute/machines/licenseProfiles',
    location: machine.location,
    properties: { ...licenseDetails(machine), provisioningState: 'Succeeded' },
  };
}

function licenseDetails(machine: MachineRecord): Record<string, unknown> {
  switch (machine.license) {
    case 'SoftwareAssurance':
      return { softwareAssurance: { softwareAssuranceCustomer: true } };
    case 'PayAsYouGo':
      return {
        productProfile: {
          productType: 'WindowsServer',
          subscriptionStatus: 'Enabled',
          enrollmentDate: ENROLLED_AT,
          billingStartDate: ENROLLED_AT,
        },
      };
    case 'None':
      return {};
  }
}
