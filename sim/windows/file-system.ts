/**
 * The file operations on a simulated node's file system (`NodeModel.files`). Semantics both
 * simulated hosts share (see windows-path.ts for paths):
 * - ensureDirectory creates missing parents; an existing folder is `created: false`, and a given
 *   SDDL is applied to it anyway; a file in the way -> Failed;
 * - writeFile needs its folder: a missing parent -> NotFound with the parent as target; a folder
 *   at the path -> Failed; utf8 content is written as UTF-8 without BOM; unchanged bytes and SDDL
 *   -> `changed: false` and nothing is touched; a file keeps its SDDL when none is given; with
 *   `createNew` an existing file -> Exists and nothing is touched (the model lock makes the check
 *   and the write one step, as the rename that never replaces does on Windows);
 * - readFile of a missing path -> `exists: false`; of a folder -> Failed; utf8 decodes like
 *   .NET File.ReadAllText: a UTF-8 BOM is dropped, a UTF-16 LE/BE BOM selects UTF-16;
 * - removePath removes a folder with everything in it; a missing path -> `removed: false`;
 * - getPath's SDDL is the item's own, else the nearest ancestor's (inheritance), else
 *   DEFAULT_VOLUME_SDDL;
 * - listDirectory of a missing path -> `exists: false`; of a file -> Failed; entries are the
 *   direct children sorted OrdinalIgnoreCase;
 * - last write times: a written file and a created folder take the clock's time, and so does the
 *   folder an entry is added to or removed from (NTFS); setting an SDDL changes no time.
 */
import { readFileSync } from 'fs';
import type { OperationCatalog } from '../../windows/operations';
import type { FileEntry, NodeModel } from './machine-model';
import { compareNames } from './names';
import { OperationFailure } from './operation-failure';
import { type WindowsPath, isDriveRoot, isSameOrInside, leafName, parentOf, parseWindowsPath, selfAndAncestors } from './windows-path';

/** What a drive root reports (and what an item with no SDDL set on it or above it inherits). */
export const DEFAULT_VOLUME_SDDL = 'O:SYG:SYD:AI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

export interface NodeContext {
  node: NodeModel;
  /** The clock, as stored in the model. */
  now: string;
}

export function requirePath(raw: string): WindowsPath {
  const path = parseWindowsPath(raw);
  if (!path) throw new OperationFailure('InvalidRequest', `'${raw}' is not an absolute Windows path`, raw);
  return path;
}

/** The entry at `path`; a drive root is a folder without an entry. */
function lookup(node: NodeModel, path: WindowsPath): FileEntry | { type: 'directory'; root: true } | undefined {
  if (isDriveRoot(path)) return { type: 'directory', root: true };
  return node.files[path.key];
}

/** Stores a new entry and marks its folder as written. The on-disk name of each parent is kept. */
function addEntry(ctx: NodeContext, path: WindowsPath, entry: Omit<FileEntry, 'path' | 'lastWriteTimeUtc'>): void {
  const parent = parentOf(path);
  const parentEntry = parent ? ctx.node.files[parent.key] : undefined;
  const text = parentEntry ? `${parentEntry.path}\\${leafName(path)}` : path.text;
  ctx.node.files[path.key] = { path: text, ...entry, lastWriteTimeUtc: ctx.now };
  if (parentEntry) parentEntry.lastWriteTimeUtc = ctx.now;
}

export function ensureDirectory(ctx: NodeContext, request: Request<'ensureDirectory'>): Result<'ensureDirectory'> {
  const path = requirePath(request.path);
  let created = false;
  for (const level of selfAndAncestors(path)) {
    const existing = ctx.node.files[level.key];
    if (existing?.type === 'file') {
      throw new OperationFailure('Failed', `Cannot create folder '${path.text}': '${existing.path}' is a file`, request.path);
    }
    if (!existing) {
      addEntry(ctx, level, { type: 'directory' });
      created = true;
    }
  }
  const entry = ctx.node.files[path.key];
  if (entry && request.sddl !== undefined) entry.sddl = request.sddl;
  return { created };
}

export function writeFile(ctx: NodeContext, request: Request<'writeFile'>): Result<'writeFile'> {
  const path = requirePath(request.path);
  const bytes = encodeContent(request.content, request.encoding ?? 'utf8', request.path);
  const existing = lookup(ctx.node, path);
  if (existing?.type === 'directory') {
    throw new OperationFailure('Failed', `Cannot write '${path.text}': it is a folder`, request.path);
  }
  const parent = parentOf(path);
  if (parent && lookup(ctx.node, parent)?.type !== 'directory') {
    throw new OperationFailure('NotFound', `Cannot write '${path.text}': the folder '${parent.text}' does not exist`, parent.text);
  }
  const contentBase64 = bytes.toString('base64');
  if (existing && request.createNew === true) {
    throw new OperationFailure('Exists', `'${path.text}' already exists: it was left as it is`, request.path);
  }
  if (existing && 'path' in existing) {
    const sameSddl = request.sddl === undefined || request.sddl === existing.sddl;
    if (existing.contentBase64 === contentBase64 && sameSddl) return { changed: false };
    if (existing.contentBase64 !== contentBase64) {
      existing.contentBase64 = contentBase64;
      existing.lastWriteTimeUtc = ctx.now;
    }
    if (request.sddl !== undefined) existing.sddl = request.sddl;
    return { changed: true };
  }
  addEntry(ctx, path, { type: 'file', contentBase64, ...(request.sddl !== undefined ? { sddl: request.sddl } : {}) });
  return { changed: true };
}

function encodeContent(content: string, encoding: 'utf8' | 'base64', target: string): Buffer {
  if (encoding === 'utf8') return Buffer.from(content, 'utf8');
  const compact = content.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) {
    throw new OperationFailure('InvalidRequest', 'content is not valid base64', target);
  }
  return Buffer.from(compact, 'base64');
}

export function copyFromHandler(ctx: NodeContext, request: Request<'copyFromHandler'>): Result<'copyFromHandler'> {
  const path = requirePath(request.path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(request.source);
  } catch {
    throw new OperationFailure(
      'NotFound',
      `The file '${request.source}' to copy does not exist on the machine running the handler`,
      request.source,
    );
  }
  const existing = lookup(ctx.node, path);
  if (existing?.type === 'directory') throw new OperationFailure('Failed', `Cannot write '${path.text}': it is a folder`, request.path);
  const parent = parentOf(path);
  if (parent && lookup(ctx.node, parent)?.type !== 'directory') {
    throw new OperationFailure('NotFound', `Cannot write '${path.text}': the folder '${parent.text}' does not exist`, parent.text);
  }
  // Node's crypto is loaded on use: it costs every handler start that loads the simulator.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHash } = require('crypto') as typeof import('crypto');
  const copiedFrom = { source: request.source, sha256: createHash('sha256').update(bytes).digest('hex') };
  if (existing && 'path' in existing) {
    if (
      existing.copiedFrom?.sha256 === copiedFrom.sha256 ||
      (existing.contentBase64 !== undefined && Buffer.from(existing.contentBase64, 'base64').equals(bytes))
    )
      return { copied: false };
    delete existing.contentBase64;
    existing.copiedFrom = copiedFrom;
    existing.lastWriteTimeUtc = ctx.now;
    return { copied: true };
  }
  addEntry(ctx, path, { type: 'file', copiedFrom });
  return { copied: true };
}

/** A file's bytes: its content, or what it was copied from. */
function bytesOf(entry: { contentBase64?: string; copiedFrom?: { source: string } }): Buffer {
  if (entry.copiedFrom) return readFileSync(entry.copiedFrom.source);
  return Buffer.from(entry.contentBase64 ?? '', 'base64');
}

export function readFile(ctx: NodeContext, request: Request<'readFile'>): Result<'readFile'> {
  const path = requirePath(request.path);
  const entry = lookup(ctx.node, path);
  if (!entry) return { exists: false, content: null };
  if (entry.type === 'directory') throw new OperationFailure('Failed', `Cannot read '${path.text}': it is a folder`, request.path);
  const bytes = bytesOf(entry);
  return { exists: true, content: (request.encoding ?? 'utf8') === 'base64' ? bytes.toString('base64') : decodeText(bytes) };
}

/** As .NET File.ReadAllText: the BOM picks the encoding and is dropped; no BOM is UTF-8. */
export function decodeText(bytes: Buffer): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  return bytes.toString('utf8');
}

export function removePath(ctx: NodeContext, request: Request<'removePath'>): Result<'removePath'> {
  const path = requirePath(request.path);
  if (isDriveRoot(path)) throw new OperationFailure('InvalidRequest', `Refusing to remove the drive root '${path.text}'`, request.path);
  if (!ctx.node.files[path.key]) return { removed: false };
  for (const key of Object.keys(ctx.node.files)) {
    if (isSameOrInside(key, path.key)) delete ctx.node.files[key];
  }
  const parent = parentOf(path);
  const parentEntry = parent ? ctx.node.files[parent.key] : undefined;
  if (parentEntry) parentEntry.lastWriteTimeUtc = ctx.now;
  return { removed: true };
}

export function getPath(ctx: NodeContext, request: Request<'getPath'>): Result<'getPath'> {
  const path = requirePath(request.path);
  const entry = lookup(ctx.node, path);
  if (!entry) return { exists: false, type: null, sddl: null };
  return { exists: true, type: entry.type, sddl: effectiveSddl(ctx.node, path) };
}

function effectiveSddl(node: NodeModel, path: WindowsPath): string {
  for (const level of selfAndAncestors(path).reverse()) {
    const sddl = node.files[level.key]?.sddl;
    if (sddl !== undefined) return sddl;
  }
  return DEFAULT_VOLUME_SDDL;
}

export function listDirectory(ctx: NodeContext, request: Request<'listDirectory'>): Result<'listDirectory'> {
  const path = requirePath(request.path);
  const entry = lookup(ctx.node, path);
  if (!entry) return { exists: false, entries: [] };
  if (entry.type === 'file') throw new OperationFailure('Failed', `Cannot list '${path.text}': it is a file`, request.path);
  const prefix = `${path.key}\\`;
  const entries = Object.entries(ctx.node.files)
    .filter(([key]) => key.startsWith(prefix) && !key.slice(prefix.length).includes('\\'))
    .map(([, child]) => ({
      name: child.path.slice(child.path.lastIndexOf('\\') + 1),
      type: child.type,
      lastWriteTimeUtc: child.lastWriteTimeUtc,
    }))
    .sort((a, b) => compareNames(a.name, b.name));
  return { exists: true, entries };
}
