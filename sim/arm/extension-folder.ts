import { promises as fs } from 'fs';
import path from 'path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Lays out an extension folder the way an extension manager does before it runs a handler:
 * HandlerEnvironment.json (array form) pointing at config, status and log folders inside it, and
 * the package's JEA module files in jea/, where the package carries them. Used by `npm start`,
 * the benchmarks and the tests that run the handler without a real manager.
 */
export async function layOutExtensionFolder(root: string, handlerName: string): Promise<void> {
  await fs.cp(path.join(REPO_ROOT, 'jea', 'generated'), path.join(root, 'jea'), { recursive: true });
  for (const folder of ['config', 'status', 'log']) await fs.mkdir(path.join(root, folder), { recursive: true });
  const handlerEnvironment = {
    logFolder: path.join(root, 'log'),
    configFolder: path.join(root, 'config'),
    statusFolder: path.join(root, 'status'),
    heartbeatFile: path.join(root, 'heartbeat.log'),
  };
  await fs.writeFile(path.join(root, 'HandlerEnvironment.json'), JSON.stringify([{ name: handlerName, version: 1.0, handlerEnvironment }]));
}

/** Writes `<config>/<N>.settings` in the manager's format. */
export async function writeHandlerSettings(root: string, sequenceNumber: number, handlerSettings: Record<string, unknown>): Promise<void> {
  await fs.writeFile(path.join(root, 'config', `${sequenceNumber}.settings`), JSON.stringify({ runtimeSettings: [{ handlerSettings }] }));
}
