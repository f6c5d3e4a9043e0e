/** Shared by the diag tests: a folder standing for a node's drive C:, and reading a bundle back. */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import path from 'path';
import * as yauzl from 'yauzl';
import type { Manifest } from '../../diag/bundle';

/** Writes `C:\a\b.log`-style paths under `<root>/C/...`. */
export async function plant(root: string, windowsPath: string, content: string | Buffer, mtime?: Date): Promise<string> {
  const local = path.join(root, ...windowsPath.replace(/^([A-Za-z]):/, '$1').split('\\'));
  await fs.mkdir(path.dirname(local), { recursive: true });
  await fs.writeFile(local, content);
  if (mtime) await fs.utimes(local, mtime, mtime);
  return local;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface Unzipped {
  names: string[];
  files: Map<string, Buffer>;
  manifest: Manifest;
}

export async function readBundle(file: string): Promise<Unzipped> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true });
  const files = new Map<string, Buffer>();
  const names: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      names.push(entry.fileName);
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      files.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return { names, files, manifest: JSON.parse(files.get('manifest.json')!.toString('utf8')) as Manifest };
}
