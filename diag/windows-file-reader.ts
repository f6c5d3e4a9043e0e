/**
 * The agent's log source reader on Windows: the node's own files through Node's fs (the agent runs
 * there as SYSTEM), event log channels exported through the host. Links are reported, never
 * followed (lstat).
 */
import { promises as fs, type Stats } from 'fs';
import { win32 } from 'path';
import { Readable } from 'stream';
import { SourceReadError, errorReason } from './reader';
import type { WindowsHost } from '../windows/port';
import { HostLogExporter } from './host-log-export';
import { TreeSourceReader, type NodeFileTree, type TreeItem } from './tree-reader';

function itemOf(name: string, stat: Stats): TreeItem {
  const type = stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'directory' : stat.isFile() ? 'file' : 'other';
  return { name, type, size: stat.size, modifiedUtc: stat.mtime.toISOString() };
}

const windowsFiles: NodeFileTree = {
  async children(folder) {
    let names: string[];
    try {
      names = await fs.readdir(folder);
    } catch (error) {
      if (errorReason(error) === 'missing') return null;
      throw new SourceReadError(errorReason(error), `${folder}: ${(error as Error).message}`);
    }
    const items: TreeItem[] = [];
    for (const name of names.sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }))) {
      try {
        items.push(itemOf(name, await fs.lstat(win32.join(folder, name))));
      } catch {
        // Gone, or not ours to read: not listed (a file it cannot stat it cannot take either).
      }
    }
    return items;
  },
  async read(path, start, end) {
    if (end <= start) return Readable.from([]);
    let handle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      throw new SourceReadError(errorReason(error), `${path}: ${(error as Error).message}`);
    }
    return handle.createReadStream({ start, end: end - 1, autoClose: true });
  },
};

/** This node's files; event log channels exported by `host` (this machine's PowerShell). */
export class WindowsFileSourceReader extends TreeSourceReader {
  constructor(host: WindowsHost) {
    super(windowsFiles, new HostLogExporter(host));
  }
}
