/**
 * Which Windows the handler works on. On Windows: this machine, through Windows PowerShell, with
 * the license read by the machine's managed identity. `ARC_REMOTE_SUPPORT_HOST=simulated:<file>`
 * selects the simulated machine kept in that file (the demo, the tests, and the Linux agent);
 * `simulated:<file>#<node>` runs as another node of its cluster.
 */
import path from 'path';
import { MissingDependencyError } from '../../extension/errors';
import { managedIdentityLicenseSource, type AzureLicenseSource } from '../license/license-source';
import type { WindowsHost } from './port';

export interface HostBinding {
  host: WindowsHost;
  license: AzureLicenseSource;
  /** The machine's own clock, where it is not this process's (the simulated machine's). */
  clock?: () => Promise<Date>;
}

export const HOST_VARIABLE = 'ARC_REMOTE_SUPPORT_HOST';

export async function selectHost(environment: NodeJS.ProcessEnv, extensionRoot: string): Promise<HostBinding> {
  const choice = environment[HOST_VARIABLE];
  if (choice?.startsWith('simulated:')) {
    // simulated:<file>[#<node>]: the node this process runs on, when not the model's local node.
    const [modelPath = '', localNode] = choice.slice('simulated:'.length).split('#');
    const { SimulatedHost } = await import('./simulated/simulated-host');
    const host = new SimulatedHost(modelPath, { localNode });
    // Loaded only when a check needs the license: most runs never ask.
    const license: AzureLicenseSource = { read: async (resourceId) => (await import('./simulated/simulated-license')).simulatedLicenseSource(modelPath).read(resourceId) };
    return { host, license, clock: () => host.now() };
  }
  if (choice) {
    throw new MissingDependencyError(`${HOST_VARIABLE} is ${JSON.stringify(choice)}; the accepted value is simulated:<path of a machine model file>, or nothing on Windows.`);
  }
  if (process.platform !== 'win32') {
    throw new MissingDependencyError(`This handler manages Windows and runs here on ${process.platform}: set ${HOST_VARIABLE}=simulated:<machine model file> to run it against the simulated machine.`);
  }
  const { PowerShellHost } = await import('./powershell-host');
  return {
    host: new PowerShellHost({ scriptsDir: path.join(extensionRoot, 'scripts') }),
    license: managedIdentityLicenseSource(environment.ARC_REMOTE_SUPPORT_ARM_ENDPOINT),
  };
}
