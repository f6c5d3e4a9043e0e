/**
 * The owner's folder: where the CLI keeps each grant's private ticket key, the grant's channel
 * record, default access tickets and its configuration. `ARC_REMOTE_SUPPORT_HOME` names it;
 * otherwise `%APPDATA%\arc-remote-support` on Windows and `$XDG_CONFIG_HOME/arc-remote-support`
 * (default `~/.config/arc-remote-support`) elsewhere. Folders are made 0700 and secret files 0600,
 * so only the owner's account can read them (on Windows the profile folder's ACL does that job).
 */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';

export const HOME_VARIABLE = 'ARC_REMOTE_SUPPORT_HOME';

export function ownerHome(env: NodeJS.ProcessEnv): string {
  if (env[HOME_VARIABLE]) return path.resolve(env[HOME_VARIABLE]);
  if (process.platform === 'win32' && env.APPDATA) return path.join(env.APPDATA, 'arc-remote-support');
  const config = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(config, 'arc-remote-support');
}

/** Makes a folder (and its parents) and closes it to everyone but the owner. */
export async function privateFolder(folder: string): Promise<string> {
  await fs.mkdir(folder, { recursive: true, mode: 0o700 });
  // mkdir's mode is masked by the umask and leaves an existing folder as it was.
  await fs.chmod(folder, 0o700);
  return folder;
}

/**
 * Writes a file only its owner can read: created 0600 (never readable for a moment by others),
 * replaced atomically through a temporary file in the same folder.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  const handle = await fs.open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.chmod(temporary, 0o600);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
}
