/**
 * Windows paths in the simulated file system. Semantics both simulated hosts share:
 * - a path is absolute, `X:\...`; `/` counts as `\`; repeated separators collapse; `.` and `..`
 *   segments are resolved (never above the drive root); a trailing `\` is dropped;
 * - case-insensitive: the model keys a path by its lower-case text;
 * - every drive root (`C:\`) exists as a folder and cannot be removed;
 * - a segment may not contain `< > : " | ? *` or control characters.
 */

export interface WindowsPath {
  /** `C:\ProgramData\X` (the segments as given, drive root `C:\`). */
  text: string;
  /** Lower-case text without trailing backslash: the model's key (`c:` for a drive root). */
  key: string;
  /** The drive (`C:`) followed by each segment. */
  segments: string[];
}

// eslint-disable-next-line no-control-regex -- Windows forbids the control characters 0-31 in a path segment.
const INVALID_SEGMENT = /[<>:"|?*\u0000-\u001f]/;

/** Null when `raw` is not an absolute Windows path. */
export function parseWindowsPath(raw: string): WindowsPath | null {
  const unified = raw.replace(/\//g, '\\');
  const match = /^([A-Za-z]:)(?:\\(.*))?$/.exec(unified);
  if (!match || !match[1]) return null;
  const segments: string[] = [];
  for (const segment of (match[2] ?? '').split('\\')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      segments.pop();
      continue;
    }
    if (INVALID_SEGMENT.test(segment)) return null;
    segments.push(segment);
  }
  return fromSegments([match[1], ...segments]);
}

export function fromSegments(segments: string[]): WindowsPath {
  const text = segments.length === 1 ? `${segments[0]}\\` : segments.join('\\');
  return { text, key: segments.join('\\').toLowerCase(), segments };
}

export function isDriveRoot(path: WindowsPath): boolean {
  return path.segments.length === 1;
}

/** The folder holding `path`; null for a drive root. */
export function parentOf(path: WindowsPath): WindowsPath | null {
  return isDriveRoot(path) ? null : fromSegments(path.segments.slice(0, -1));
}

/** Every folder from the drive's first level down to `path` itself (the root excluded). */
export function selfAndAncestors(path: WindowsPath): WindowsPath[] {
  const chain: WindowsPath[] = [];
  for (let length = 2; length <= path.segments.length; length++) chain.push(fromSegments(path.segments.slice(0, length)));
  return chain;
}

export function leafName(path: WindowsPath): string {
  return path.segments[path.segments.length - 1] ?? '';
}

/** Whether `key` names `ancestorKey` itself or something inside it. */
export function isSameOrInside(key: string, ancestorKey: string): boolean {
  return key === ancestorKey || key.startsWith(`${ancestorKey}\\`);
}
