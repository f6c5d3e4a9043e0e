import { promises as fs } from 'fs';
import { join } from 'path';

/**
 * Which settings this run applies. The manager sets `ConfigSequenceNumber`; when it does not, the
 * most recently modified `<N>.settings` in the config folder is the current one. N can repeat with
 * new content and can reset to a lower number, so "newest" is by modification time, not by N.
 * Returns undefined when there are no settings yet.
 */
export async function resolveSequenceNumber(environment: NodeJS.ProcessEnv, configFolder: string): Promise<number | undefined> {
  const fromEnvironment = environment.ConfigSequenceNumber;
  if (fromEnvironment !== undefined && fromEnvironment.trim() !== '') {
    const parsed = Number(fromEnvironment.trim());
    if (Number.isInteger(parsed) && parsed >= 0) return parsed;
  }
  return newestSettingsFile(configFolder);
}

async function newestSettingsFile(configFolder: string): Promise<number | undefined> {
  let names: string[];
  try {
    names = await fs.readdir(configFolder);
  } catch {
    return undefined;
  }
  let newest: { sequence: number; modified: number } | undefined;
  for (const name of names) {
    const match = /^(\d+)\.settings$/.exec(name);
    if (!match) continue;
    const sequence = Number(match[1]);
    const modified = (await fs.stat(join(configFolder, name))).mtimeMs;
    // On equal times the higher number wins: it was written by a later goal state.
    if (!newest || modified > newest.modified || (modified === newest.modified && sequence > newest.sequence)) {
      newest = { sequence, modified };
    }
  }
  return newest?.sequence;
}
