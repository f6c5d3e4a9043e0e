/**
 * The one place that picks adapters: which Windows the handler and the agent work on, where the
 * license is read, what the clock is, and how protected settings are decrypted.
 *
 * On Windows: this machine through Windows PowerShell, the license read with the machine's managed
 * identity, .NET EnvelopedCms for protected settings. Elsewhere (the demo, the tests, the Linux
 * agent): `ARC_REMOTE_SUPPORT_HOST=simulated:<model file>[#<node>]` selects the simulated machine,
 * loaded from `ARC_REMOTE_SUPPORT_SIMULATOR` (build/sim/simulator.js, or sim/windows/simulator.ts
 * from source), never from the package: the customer's zip carries no simulator, and a Windows node
 * never accepts one in place of itself.
 */
import { dirname, isAbsolute, join, win32 } from 'path';
import { MissingDependencyError } from '../extension/errors';
import type { ProtectedSettingsDecryptor } from '../extension/protected-settings';
import type { SourceReader } from '../diag/reader';
import type { JeaSessionLauncher } from '../windows/jea-session';
import { LOG_STAGING_FOLDER } from '../core/node-layout';
import type { WindowsHost } from '../windows/port';
import { codeCacheFileFor, requireWithCodeCache } from './compile-cache';
import { managedIdentityLicenseSource, type AzureLicenseSource } from './license/license-source';

export interface NodeAdapters {
  host: WindowsHost;
  license: AzureLicenseSource;
  /** The machine's own clock, where it is not this process's (the simulated machine's). */
  clock?: () => Promise<Date>;
  /** Opens engineers' JEA sessions on this node (the channel agent). */
  sessions: JeaSessionLauncher;
  /**
   * A cheap read of one of the node's files (null: missing), for the long-running channel's watch:
   * the agent's own read on Windows (it runs on the node as SYSTEM); elsewhere a host batch.
   */
  readNodeFile?: (path: string) => Promise<string | null>;
  /** How the agent collects diagnostic logs on this node (agent collect-logs). */
  logCollection?: LogCollectionAdapters;
}

export interface LogCollectionAdapters {
  /** Reads the node's log sources. */
  reader: SourceReader;
  /** A local folder of this process for the bundle and its upload journal. */
  stagingFolder: string;
  /**
   * Accept the storage emulator on a loopback address as the upload target: the simulated machine
   * only (its tests upload to Azurite); never on Windows.
   */
  allowStorageEmulator: boolean;
}

export const HOST_VARIABLE = 'ARC_REMOTE_SUPPORT_HOST';
/** How long one log export (a channel, the cluster log, the Windows Update log) may take on Windows. */
const LOG_EXPORT_TIMEOUT_MS = 10 * 60_000;
export const SIMULATOR_VARIABLE = 'ARC_REMOTE_SUPPORT_SIMULATOR';

/** What a simulator module exports (sim/windows/simulator.ts). */
interface SimulatorModule {
  simulatedNode(
    modelPath: string,
    localNode: string | undefined,
    context: { environment: NodeJS.ProcessEnv; extensionRoot: string },
  ): NodeAdapters;
}

export async function composeNode(environment: NodeJS.ProcessEnv, extensionRoot: string): Promise<NodeAdapters> {
  const choice = environment[HOST_VARIABLE];
  if (choice?.startsWith('simulated:') && process.platform !== 'win32') {
    // simulated:<file>[#<node>]: the node this process runs on, when not the model's local node.
    const [modelPath = '', localNode] = choice.slice('simulated:'.length).split('#');
    return loadSimulator(environment).simulatedNode(modelPath, localNode, { environment, extensionRoot });
  }
  if (choice) {
    throw new MissingDependencyError(
      process.platform === 'win32'
        ? `${HOST_VARIABLE} is set to ${JSON.stringify(choice)}; on Windows the handler only manages this machine: remove the variable.`
        : `${HOST_VARIABLE} is ${JSON.stringify(choice)}; the accepted value is simulated:<path of a machine model file>.`,
    );
  }
  if (process.platform !== 'win32') {
    throw new MissingDependencyError(
      `This handler manages Windows and runs here on ${process.platform}: set ${HOST_VARIABLE}=simulated:<machine model file> and ${SIMULATOR_VARIABLE}=<simulator module> to run it against the simulated machine.`,
    );
  }
  const { PowerShellHost } = await import('../windows/powershell-host');
  const { PowerShellSessionLauncher } = await import('../windows/powershell-session');
  const scriptsDir = join(extensionRoot, 'scripts');
  const { WindowsFileSourceReader } = await import('../diag/windows-file-reader');
  // Exporting a day of a busy channel, or writing the cluster or Windows Update log, can take minutes.
  const logExports = new PowerShellHost({ scriptsDir, timeoutMs: LOG_EXPORT_TIMEOUT_MS });
  return {
    readNodeFile: readWindowsFile,
    // The agent runs on the node as SYSTEM: it reads the files and stages the bundle itself.
    logCollection: { reader: new WindowsFileSourceReader(logExports), stagingFolder: LOG_STAGING_FOLDER, allowStorageEmulator: false },
    host: new PowerShellHost({ scriptsDir }),
    sessions: new PowerShellSessionLauncher({ scriptsDir }),
    license: managedIdentityLicenseSource(environment.ARC_REMOTE_SUPPORT_ARM_ENDPOINT),
  };
}

function loadSimulator(environment: NodeJS.ProcessEnv): SimulatorModule {
  const modulePath = environment[SIMULATOR_VARIABLE];
  if (!modulePath || !isAbsolute(modulePath)) {
    throw new MissingDependencyError(
      `${HOST_VARIABLE} selects the simulated machine, which is not part of the extension package: set ${SIMULATOR_VARIABLE} to the absolute path of the simulator module (npm run build writes build/sim/simulator.js); received ${JSON.stringify(modulePath ?? null)}.`,
    );
  }
  try {
    // The bundle (build/sim/simulator.js) with the handler's code cache, when it keeps one: a simulated
    // run then costs what the handler costs, not compiling the simulator again. The source (tests) as any module.
    const cacheFile = modulePath.endsWith('.js') ? codeCacheFileFor(modulePath) : undefined;
    // A path known only at run time: the bundler leaves this require to Node.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (cacheFile ? requireWithCodeCache(modulePath, cacheFile) : require(modulePath)) as SimulatorModule;
  } catch (error) {
    throw new MissingDependencyError(
      `The simulator module ${modulePath} (${SIMULATOR_VARIABLE}) could not be loaded: ${(error as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * Windows: .NET EnvelopedCms in Windows PowerShell with the certificate from LocalMachine\My.
 * Elsewhere (the Linux agent in tests): openssl with the agent's `<thumbprint>.crt/.prv`, which
 * it keeps in its lib folder, the parent of the extension folder.
 */
export async function platformDecryptor(extensionRoot: string, environment: NodeJS.ProcessEnv): Promise<ProtectedSettingsDecryptor> {
  if (process.platform === 'win32') {
    const { PowerShellDecryptor } = await import('../extension/decrypt-powershell');
    const systemRoot = environment.SystemRoot ?? 'C:\\Windows';
    return new PowerShellDecryptor({
      powershellExe: win32.join(systemRoot, 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe'),
      scriptPath: join(extensionRoot, 'scripts', 'Unprotect-ProtectedSettings.ps1'),
    });
  }
  const { OpensslDecryptor } = await import('../extension/decrypt-openssl');
  return new OpensslDecryptor({ certDir: environment.ARC_REMOTE_SUPPORT_CERT_DIR ?? dirname(extensionRoot) });
}

async function readWindowsFile(file: string): Promise<string | null> {
  const { promises: fs } = await import('fs');
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
