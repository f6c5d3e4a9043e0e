/**
 * Writes a folder as a reproducible zip: the same files give the same bytes on any machine and in
 * any time zone, so a package's SHA-256 identifies its content.
 */
import { createHash } from 'crypto';
import { createReadStream, createWriteStream, promises as fs } from 'fs';
import path from 'path';
import { ZipFile } from 'yazl';

/**
 * yazl writes the DOS date from the local time fields, so a date built from local fields gives the
 * same DOS timestamp in every time zone; `forceDosTimestamp` drops the UTC extra field that would not.
 */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);
/** A regular file, rw-r--r--: Windows ignores it, unzip on Linux gets a sane mode. */
const FILE_MODE = 0o100644;

/** Regular files under dir as forward-slash paths relative to it, in code-unit order. */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(path.join(dir, entry.name), rel)));
    else if (entry.isFile()) out.push(rel);
    else throw new Error(`${path.join(dir, entry.name)}: only regular files and folders can be packaged`);
  }
  // Plain comparison, not localeCompare: the order must not depend on the build machine's locale.
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Zips every file under dir (no folder entries; unzip tools create them) to zipPath. */
export async function zipFolder(dir: string, zipPath: string): Promise<void> {
  const zip = new ZipFile();
  for (const rel of await listFiles(dir)) {
    zip.addFile(path.join(dir, ...rel.split('/')), rel, {
      mtime: FIXED_MTIME,
      mode: FILE_MODE,
      forceDosTimestamp: true,
      compress: true,
    });
  }
  // Write beside the target and rename, so a failed build never leaves a plausible-looking zip.
  const tmp = `${zipPath}.partial`;
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(tmp);
    out.on('close', resolve);
    out.on('error', reject);
    zip.outputStream.on('error', reject);
    zip.outputStream.pipe(out);
    zip.end();
  });
  await fs.rename(tmp, zipPath);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
