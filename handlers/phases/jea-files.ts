/**
 * The JEA definition a node gets: the module files generated at build time (jea/generated/, shipped
 * in the package as jea/) and the session configuration, made here per node because it names the
 * node's own groups.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { JEA_MODULE_FOLDER } from '../../core/node-layout';
import type { JeaDefinition } from '../../core/node-intent';
import { generateSessionConfiguration } from '../../jea/session-configuration';

/** The module's files, relative to the module folder (and to the package's jea/ folder). */
export const JEA_MODULE_FILES = [
  'ArcRemoteSupportJea.psd1',
  'RoleCapabilities/ArcRemoteSupportDiagnostics.psrc',
  'RoleCapabilities/ArcRemoteSupportRepair.psrc',
] as const;

export const jeaNodePath = (relativePath: string) => `${JEA_MODULE_FOLDER}\\${relativePath.split('/').join('\\')}`;
export const JEA_NODE_FILE_PATHS = JEA_MODULE_FILES.map(jeaNodePath);

export async function loadJeaDefinition(extensionRoot: string, computerName: string): Promise<JeaDefinition> {
  const files = JEA_MODULE_FILES.map((relativePath) => ({
    path: jeaNodePath(relativePath),
    content: readFileSync(join(extensionRoot, 'jea', ...relativePath.split('/')), 'utf8'),
  }));
  return { files, sessionConfiguration: generateSessionConfiguration(computerName) };
}
