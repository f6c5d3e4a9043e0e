/**
 * The extension manager of the emulated Arc machines: when an extension write reaches a Connected
 * machine, it runs the real handler package (unzipped) on a simulated Windows machine as the Arc
 * extension manager would, on the Node the package ships (install then enable on create; enable on update; disable then uninstall
 * on delete; the update order on upgrade), with the settings written as the manager writes them
 * (protected settings encrypted to the machine's certificate), and reports the handler's status
 * file as the extension's instance view.
 *
 * The instance view has one status, not the handler's substatus list: its message is the status
 * message followed by one line per substatus, `Node <NAME>: <message>`, which is how this project
 * assumes the manager flattens them (the CLI reads the node lines back).
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { createDefaultMachine, writeMachine } from '../windows/default-machine';
import type { MachineModel } from '../windows/machine-model';
import { layOutExtensionFolder } from './extension-folder';
import { createTestCertificate, encryptToCms, type TestCertificate } from './protected-settings-cms';
import type { EmulatedMachineSpec, ExtensionInstanceView, ExtensionRun, ExtensionRunResult } from './types';
import { simulatorBundle, simulatorEnvironment } from '../windows/simulator-bundle';
import { shippedNodePath } from '../shipped-node-path';

const HANDLER_NAME = 'ArcRemoteSupport.WindowsRemoteSupport';

export interface HandlerPackageRunnerOptions {
  /** Unzipped packages by full version, e.g. { '1.0.0': dir, '1.0.1': dir }. */
  packages: Record<string, string>;
  /** Where machines, extension folders and data live. */
  workDir: string;
  /** Machines that are nodes of one failover cluster (by name); the others are stand-alone servers. */
  clusters?: string[][];
  /** Changes a machine's simulated Windows before its first use (e.g. less memory). */
  shapeNode?: (machine: EmulatedMachineSpec, model: MachineModel) => void;
}

export interface HandlerPackageRunner {
  runExtension(run: ExtensionRun): Promise<ExtensionRunResult>;
  /** The simulated Windows model file and node name of an emulated machine. */
  windowsOf(machine: EmulatedMachineSpec): { modelPath: string; node: string };
  /** Every handler command run, in order: `<machine> <command> <version> -> <exit>`. */
  readonly commands: string[];
}

interface InstalledExtension {
  version: string;
  sequenceNumber: number;
}

export function handlerPackageRunner(options: HandlerPackageRunnerOptions): HandlerPackageRunner {
  const installed = new Map<string, InstalledExtension>();
  const models = new Map<string, Promise<string>>();
  const commands: string[] = [];
  let certificate: Promise<TestCertificate> | undefined;
  const certDir = path.join(options.workDir, 'certs');
  const machineKey = (machine: EmulatedMachineSpec) => machine.name.toUpperCase();
  const clusterOf = (machine: EmulatedMachineSpec) =>
    options.clusters?.find((members) => members.some((name) => name.toUpperCase() === machineKey(machine)));

  const windowsOf = (machine: EmulatedMachineSpec) => {
    const cluster = clusterOf(machine);
    const file = cluster ? `cluster-${cluster.map((name) => name.toUpperCase()).join('+')}.json` : `machine-${machineKey(machine)}.json`;
    return { modelPath: path.join(options.workDir, file), node: machineKey(machine) };
  };

  /** The simulated Windows of a machine (shared by the nodes of a cluster), made on first use. */
  const ensureModel = (machine: EmulatedMachineSpec): Promise<string> => {
    const { modelPath } = windowsOf(machine);
    if (!models.has(modelPath)) {
      models.set(
        modelPath,
        (async () => {
          const names = (clusterOf(machine) ?? [machine.name]).map((name) => name.toUpperCase());
          const model = createDefaultMachine({ names });
          for (const name of names) {
            model.nodes[name]!.arc.resourceId =
              `/subscriptions/${machine.subscriptionId}/resourceGroups/${machine.resourceGroup}/providers/Microsoft.HybridCompute/machines/${name}`;
          }
          options.shapeNode?.(machine, model);
          await fs.mkdir(options.workDir, { recursive: true });
          await writeMachine(modelPath, model);
          return modelPath;
        })(),
      );
    }
    return models.get(modelPath)!;
  };

  const extensionRoot = (machine: EmulatedMachineSpec, version: string) =>
    path.join(options.workDir, 'extensions', machineKey(machine), `${HANDLER_NAME}-${version}`);

  /** The package laid out as the manager lays it out, once per machine and version. */
  const layOut = async (machine: EmulatedMachineSpec, version: string): Promise<string> => {
    const root = extensionRoot(machine, version);
    if (
      await fs.stat(path.join(root, 'HandlerEnvironment.json')).then(
        () => true,
        () => false,
      )
    )
      return root;
    const packageDir = options.packages[version];
    if (!packageDir) throw new Error(`no package for version ${version}; the runner has ${Object.keys(options.packages).join(', ')}`);
    await fs.cp(packageDir, root, { recursive: true });
    await layOutExtensionFolder(root, HANDLER_NAME);
    return root;
  };

  const writeSettings = async (root: string, sequenceNumber: number, properties: Record<string, any>) => {
    const handlerSettings: Record<string, unknown> = { publicSettings: properties.settings ?? {} };
    if (properties.protectedSettings && Object.keys(properties.protectedSettings).length > 0) {
      certificate ??= createTestCertificate(certDir, 'arc-machine');
      const cert = await certificate;
      handlerSettings.protectedSettings = await encryptToCms(JSON.stringify(properties.protectedSettings), cert.crtPath, 'aes256');
      handlerSettings.protectedSettingsCertThumbprint = cert.thumbprint;
    }
    await fs.writeFile(path.join(root, 'config', `${sequenceNumber}.settings`), JSON.stringify({ runtimeSettings: [{ handlerSettings }] }));
  };

  const run = async (
    machine: EmulatedMachineSpec,
    version: string,
    command: string,
    sequenceNumber: number,
    extraEnv: Record<string, string> = {},
  ) => {
    const root = await layOut(machine, version);
    const { modelPath, node } = windowsOf(machine);
    const result = await execa(shippedNodePath(), [path.join(root, 'bin', 'handler.js'), command], {
      cwd: root,
      reject: false,
      env: {
        ...simulatorEnvironment(modelPath, { node, simulator: await simulatorBundle() }),
        ARC_REMOTE_SUPPORT_DATA: path.join(options.workDir, 'data', machineKey(machine)),
        ARC_REMOTE_SUPPORT_CERT_DIR: certDir,
        ConfigSequenceNumber: String(sequenceNumber),
        AZURE_GUEST_AGENT_EXTENSION_VERSION: version,
        ...extraEnv,
      },
    });
    commands.push(`${machine.name} ${command} ${version} -> ${result.exitCode}`);
    return result.exitCode;
  };

  const instanceView = async (
    machine: EmulatedMachineSpec,
    version: string,
    sequenceNumber: number,
    exitCode: number,
  ): Promise<ExtensionRunResult> => {
    const text = await fs
      .readFile(path.join(extensionRoot(machine, version), 'status', `${sequenceNumber}.status`), 'utf8')
      .catch(() => null);
    const status = text ? (JSON.parse(text) as Array<{ status: StatusBody }>)[0]?.status : undefined;
    const succeeded = exitCode === 0;
    const lines = [
      status?.formattedMessage?.message ??
        (succeeded ? 'The handler reported no status.' : `The handler exited with ${exitCode} and reported no status.`),
    ];
    for (const item of status?.substatus ?? []) lines.push(`${item.name}: ${item.formattedMessage?.message ?? ''}`);
    const view: ExtensionInstanceView = {
      name: 'WindowsRemoteSupport',
      type: 'WindowsRemoteSupport',
      typeHandlerVersion: version,
      status: {
        code: `ProvisioningState/${succeeded ? 'succeeded' : 'failed'}/${exitCode}`,
        level: !succeeded || status?.status === 'error' ? 'Error' : status?.status === 'warning' ? 'Warning' : 'Info',
        displayStatus: succeeded ? 'Provisioning succeeded' : 'Provisioning failed',
        message: lines.join('\n'),
        time: status ? new Date().toISOString() : undefined,
      },
    };
    return { provisioningState: succeeded ? 'Succeeded' : 'Failed', instanceView: view };
  };

  return {
    commands,
    windowsOf,
    async runExtension(request) {
      const { machine, kind, properties } = request;
      await ensureModel(machine);
      const key = machineKey(machine);
      const current = installed.get(key);
      if (kind === 'delete') {
        if (!current) return { provisioningState: 'Succeeded' };
        const next = current.sequenceNumber;
        await run(machine, current.version, 'disable', next);
        const exitCode = await run(machine, current.version, 'uninstall', next);
        installed.delete(key);
        return exitCode === 0 ? { provisioningState: 'Succeeded' } : instanceView(machine, current.version, next, exitCode);
      }
      // The installed version stays while it matches what is asked for; an upgrade names its version.
      const requested = String(properties.typeHandlerVersion ?? '1.0');
      const wanted =
        current && (current.version === requested || current.version.startsWith(`${requested}.`))
          ? current.version
          : versionFor(requested, Object.keys(options.packages));
      const sequenceNumber = current ? current.sequenceNumber + 1 : 0;
      const root = await layOut(machine, wanted);
      await writeSettings(root, sequenceNumber, properties);
      if (current && current.version !== wanted) {
        // An update in the manager's order: old disable, new update, old uninstall, new install, new enable.
        await writeSettings(await layOut(machine, current.version), sequenceNumber, properties);
        await run(machine, current.version, 'disable', sequenceNumber);
        await run(machine, wanted, 'update', sequenceNumber, { AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: current.version });
        await run(machine, current.version, 'uninstall', sequenceNumber);
        await run(machine, wanted, 'install', sequenceNumber);
      } else if (!current) {
        const exitCode = await run(machine, wanted, 'install', sequenceNumber);
        if (exitCode !== 0) {
          installed.set(key, { version: wanted, sequenceNumber });
          return instanceView(machine, wanted, sequenceNumber, exitCode);
        }
      }
      installed.set(key, { version: wanted, sequenceNumber });
      const exitCode = await run(machine, wanted, 'enable', sequenceNumber);
      return instanceView(machine, wanted, sequenceNumber, exitCode);
    },
  };
}

interface StatusBody {
  status: string;
  formattedMessage?: { message: string };
  substatus?: Array<{ name: string; formattedMessage?: { message: string } }>;
}

/** The newest package of a major.minor (or the exact version asked for). */
function versionFor(requested: string, available: string[]): string {
  if (available.includes(requested)) return requested;
  const matching = available
    .filter((version) => version.startsWith(`${requested}.`))
    .sort((a, b) => Number(b.split('.')[2]) - Number(a.split('.')[2]));
  if (!matching[0]) throw new Error(`no package for typeHandlerVersion ${requested}; the runner has ${available.join(', ')}`);
  return matching[0];
}
