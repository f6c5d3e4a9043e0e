/**
 * Test-only: the simulated node's engineer sessions run by the package's real session script
 * (ChannelSession.ps1) through its real launcher (windows/powershell-session.ts), in a real pwsh
 * against the tests' stand-in Windows (Set-LocalUser, New-PSSession on this machine model) and JEA
 * (a local runspace built from the session configuration and role capabilities the handler
 * installed on the node). Chosen by `ARC_REMOTE_SUPPORT_SIM_SESSIONS=pwsh:<config file>`; without
 * the variable the node's sessions are simulated (simulated-session.ts). A Windows node never loads
 * the simulator (handlers/compose.ts), so it never reads this variable.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import path from 'path';
import { JEA_MODULE_FOLDER } from '../../core/node-layout';
import { CHANNEL_SESSION_SCRIPT, type JeaSession, type JeaSessionLauncher, type JeaSessionRequest } from '../../windows/jea-session';
import type { MachineModel } from './machine-model';
import { readMachine } from './model-store';
import { parseWindowsPath } from './windows-path';

export const SIM_SESSIONS_VARIABLE = 'ARC_REMOTE_SUPPORT_SIM_SESSIONS';

/** What `pwsh:<file>` names: a JSON file the test writes. Every path absolute. */
export interface PwshSessionsConfig {
  /** The pwsh to run the session script in (not Windows PowerShell, which Linux lacks). */
  pwsh: string;
  /** The script pwsh runs: loads the stand-ins, then runs $env:ARS_CHANNEL_SESSION_SCRIPT (test/powershell/Invoke-ChannelSessionWithStandIn.ps1). */
  entryScript: string;
  /** The compiled stand-ins of the roles' Windows commands (test/support/jea-proof.ts installJeaStandIns). */
  jeaStandIns: string;
  /** The stand-in's drives: <drives>/<NODE>/C is the node's C: for the session script. */
  drives: string;
}

const CONFIG_FIELDS = ['pwsh', 'entryScript', 'jeaStandIns', 'drives'] as const;

/** Reads and checks the variable's value; an error names the variable, the field, the value and the fix. */
export function readPwshSessionsConfig(value: string): PwshSessionsConfig {
  const file = value.startsWith('pwsh:') ? value.slice('pwsh:'.length) : '';
  if (!path.isAbsolute(file)) {
    throw new Error(
      `${SIM_SESSIONS_VARIABLE} is ${JSON.stringify(value)}; the accepted value is pwsh:<absolute path of a JSON file with ${CONFIG_FIELDS.join(', ')}>, or unset for simulated sessions.`,
    );
  }
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${SIM_SESSIONS_VARIABLE} names ${file}, which is not a readable JSON file: ${(error as Error).message}`);
  }
  for (const field of CONFIG_FIELDS) {
    const given = parsed?.[field];
    if (typeof given !== 'string' || !path.isAbsolute(given)) {
      throw new Error(`${file} (${SIM_SESSIONS_VARIABLE}): '${field}' is ${JSON.stringify(given ?? null)}; give an absolute path.`);
    }
  }
  return parsed as unknown as PwshSessionsConfig;
}

export interface PwshSessionLauncherOptions {
  modelPath: string;
  /** The node the agent runs on; default the model's localNode. */
  localNode?: string;
  /** The package's scripts folder: ChannelSession.ps1 and ArcRemoteSupport.Host.psm1 as the package ships them. */
  scriptsDir: string;
  config: PwshSessionsConfig;
}

/**
 * Opens each session as windows/powershell-session.ts does on Windows, after putting the node's
 * JEA files (the module folder and each endpoint's session configuration file, as the model holds
 * them) on the stand-in's C: drive, where New-PSSession's stand-in reads them.
 */
export class PwshSessionLauncher implements JeaSessionLauncher {
  constructor(private readonly options: PwshSessionLauncherOptions) {}

  async open(request: JeaSessionRequest): Promise<JeaSession> {
    const model = await readMachine(this.options.modelPath);
    const nodeKey = (this.options.localNode ?? model.localNode).toUpperCase();
    writeJeaFilesToDrive(model, nodeKey, path.join(this.options.config.drives, nodeKey, 'C'));
    // Loaded on use: only this test-only launcher needs the real one.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PowerShellSessionLauncher } = require('../../windows/powershell-session') as typeof import('../../windows/powershell-session');
    const launcher = new PowerShellSessionLauncher({
      powershellExe: this.options.config.pwsh,
      scriptsDir: this.options.scriptsDir,
      entryScript: this.options.config.entryScript,
      env: {
        ARS_MACHINE_MODEL: this.options.modelPath,
        ARS_MACHINE_ROOT: this.options.config.drives,
        ARS_JEA_STANDINS: this.options.config.jeaStandIns,
        ARS_STANDIN_NODE: nodeKey,
        // The agent and the handler change this model while the session runs: take its lock.
        ARS_STANDIN_MODEL_LOCK: '1',
        ARS_CHANNEL_SESSION_SCRIPT: path.join(this.options.scriptsDir, CHANNEL_SESSION_SCRIPT),
      },
    });
    return launcher.open(request);
  }
}

/**
 * Mirrors the node's JEA module folder and its endpoints' session configuration files onto
 * `driveRoot` (the node's C:), replacing what an earlier session put there: a file the handler
 * removed from the node is gone from the drive too.
 */
function writeJeaFilesToDrive(model: MachineModel, nodeKey: string, driveRoot: string): void {
  const node = model.nodes[nodeKey];
  if (!node) throw new Error(`the machine model has no node '${nodeKey}'`);
  const onDrive = (windowsPath: string) => path.join(driveRoot, ...parseWindowsPath(windowsPath)!.segments.slice(1));
  const moduleKey = parseWindowsPath(JEA_MODULE_FOLDER)!.key;
  rmSync(onDrive(JEA_MODULE_FOLDER), { recursive: true, force: true });
  const wanted = new Set(Object.values(node.sessionConfigurations).map((endpoint) => parseWindowsPath(endpoint.configFilePath)?.key ?? ''));
  for (const [key, entry] of Object.entries(node.files)) {
    if (entry.type !== 'file' || !(key.startsWith(`${moduleKey}\\`) || wanted.has(key))) continue;
    const target = onDrive(entry.path);
    mkdirSync(path.dirname(target), { recursive: true });
    if (entry.copiedFrom) copyFileSync(entry.copiedFrom.source, target);
    else writeFileSync(target, Buffer.from(entry.contentBase64 ?? '', 'base64'));
  }
}
