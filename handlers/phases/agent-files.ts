/**
 * What the node agent needs on the node, taken from the package the handler runs from: the
 * runtime (node.exe, agent.js and the modules it loads) into the stable agent folder, the
 * PowerShell it drives Windows with into its scripts folder, and the owner's module onto
 * PSModulePath. Files the package does not have are simply not copied (a development checkout).
 */
import { statSync } from 'fs';
import { join } from 'path';
import { AGENT_FOLDER, AGENT_SCRIPTS_FOLDER, OWNER_MODULE_FOLDER } from '../../core/node-layout';
import type { AgentInstallation } from '../../core/node-plan';

/** Package files the agent runs: handler-only files (handler.js, handler.cmd, the Azure SDK) stay behind. */
const RUNTIME = ['node.exe', 'agent.js'];
const AGENT_SCRIPTS = ['HostBridge.ps1', 'ArcRemoteSupport.Host.psm1', 'ChannelSession.ps1'];
const OWNER_MODULE = ['ArcRemoteSupport.psm1', 'ArcRemoteSupport.psd1'];

export async function agentInstallation(extensionRoot: string, version: string): Promise<AgentInstallation> {
  const files: AgentInstallation['files'] = [];
  const offer = (source: string, destination: string) => {
    if (isFile(source)) files.push({ source, path: destination });
  };
  for (const name of RUNTIME) offer(join(extensionRoot, 'bin', name), `${AGENT_FOLDER}\\${name}`);
  for (const name of AGENT_SCRIPTS) offer(join(extensionRoot, 'scripts', name), `${AGENT_SCRIPTS_FOLDER}\\${name}`);
  for (const name of OWNER_MODULE) offer(join(extensionRoot, 'scripts', 'ArcRemoteSupport', name), `${OWNER_MODULE_FOLDER}\\${name}`);
  return { version, folders: [AGENT_FOLDER, AGENT_SCRIPTS_FOLDER, OWNER_MODULE_FOLDER], files };
}

function isFile(file: string): boolean {
  try {
    // A missing file (a development checkout) is an answer, not an error to build and throw.
    return statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}
