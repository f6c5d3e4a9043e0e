/**
 * The agent's log source reader on the simulated Windows: the node's files as the machine model
 * keeps them (the same tree the host operations write), read from the model file at each call.
 * A file copied from the handler's machine is read from that file, as the model refers to it.
 */
import { promises as fs } from 'fs';
import { Readable } from 'stream';
import { SourceReadError } from '../../diag/reader';
import { HostLogExporter } from '../../diag/host-log-export';
import { TreeSourceReader, type NodeFileTree, type TreeItem } from '../../diag/tree-reader';
import type { WindowsHost } from '../../windows/port';
import type { FileEntry, NodeModel } from './machine-model';
import { readMachine } from './model-store';
import { compareNames } from './names';
import { isSameOrInside, leafName, parentOf, parseWindowsPath } from './windows-path';

async function bytesOf(entry: FileEntry): Promise<Buffer> {
  if (entry.copiedFrom) return fs.readFile(entry.copiedFrom.source);
  return Buffer.from(entry.contentBase64 ?? '', 'base64');
}

export function modelFileTree(modelPath: string, localNode?: string): NodeFileTree {
  const node = async (): Promise<NodeModel> => {
    const model = await readMachine(modelPath);
    const found = model.nodes[(localNode ?? model.localNode).toUpperCase()];
    if (!found) throw new SourceReadError('unreadable', `the simulated node ${localNode ?? model.localNode} is not in the model`);
    return found;
  };
  const itemOf = async (entry: FileEntry): Promise<TreeItem> => ({
    name: leafName(parseWindowsPath(entry.path)!),
    type: entry.type,
    size: entry.type === 'file' ? (await bytesOf(entry)).length : 0,
    modifiedUtc: entry.lastWriteTimeUtc,
  });
  return {
    async children(folder) {
      const path = parseWindowsPath(folder);
      const files = (await node()).files;
      if (!path || files[path.key]?.type !== 'directory') return null;
      const children = Object.entries(files)
        .filter(([key]) => key !== path.key && isSameOrInside(key, path.key) && parentOf(parseWindowsPath(key)!)?.key === path.key)
        .map(([, entry]) => entry);
      const items = await Promise.all(children.map(itemOf));
      return items.sort((a, b) => compareNames(a.name, b.name));
    },
    async read(raw, start, end) {
      const path = parseWindowsPath(raw);
      const entry = path ? (await node()).files[path.key] : undefined;
      if (!entry || entry.type !== 'file') throw new SourceReadError('missing', `${raw} is gone`);
      return Readable.from([(await bytesOf(entry)).subarray(start, end)]);
    },
  };
}

/** The node's files from the model; event log channels and generated logs made through `host` into the model's files. */
export function simulatedLogSourceReader(modelPath: string, host: WindowsHost, localNode?: string): TreeSourceReader {
  return new TreeSourceReader(modelFileTree(modelPath, localNode), new HostLogExporter(host));
}
