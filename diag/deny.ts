/**
 * What a diagnostic collection must never take, checked on every path a source resolves to (the
 * allow-list names folders; a folder can still hold a key, a settings file or a link elsewhere).
 * Fails closed: a path in any form Windows could read differently from its text (UNC, device
 * namespace, alternate data stream, 8.3 short name, trailing dot or space, `..`, a DOS device name)
 * is denied before the rules are even consulted.
 */
import { DATA_FOLDER, HISTORY_FILE } from '../core/node-layout';
import { KNOWN_ROOTS, type KnownRoot } from './sources';

export interface DenyOptions {
  /** The owner opted in to the Security log. */
  securityLogOptIn?: boolean;
  /** The node's %ProgramData% and %SystemRoot% (default C:\ProgramData, C:\Windows). */
  roots?: Record<KnownRoot, string>;
}

/** Files holding keys, certificates or tokens, by extension. */
export const DENIED_EXTENSIONS = [
  '.pfx',
  '.p12',
  '.pem',
  '.key',
  '.crt',
  '.cer',
  '.der',
  '.p7b',
  '.p7c',
  '.pvk',
  '.snk',
  '.jks',
  '.token',
  '.settings',
];
/** Folder or file names that hold secrets wherever they are (the extension's settings, token stores). */
const DENIED_SEGMENTS = ['runtimesettings', 'tokens', 'certs', 'keys', 'protect', 'crypto'];
// eslint-disable-next-line no-control-regex -- Windows forbids these in a name; a path holding one is not a plain file.
const INVALID_SEGMENT = /[<>"|?*\u0000-\u001f]/;
const DOS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;

/** The canonical segments of a plain absolute drive path (`c:`, `windows`, ...), or why it is not one. */
export function plainWindowsPath(raw: string): { segments: string[] } | { refused: string } {
  if (typeof raw !== 'string' || raw.length === 0) return { refused: 'empty path' };
  const unified = raw.replace(/\//g, '\\');
  if (unified.startsWith('\\\\') || unified.startsWith('\\??\\')) return { refused: 'UNC or device namespace path' };
  const match = /^([A-Za-z]:)\\(.*)$/.exec(unified);
  if (!match) return { refused: 'not an absolute drive path' };
  const segments = [match[1]!.toLowerCase()];
  for (const segment of match[2]!.split('\\')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return { refused: "'..' segment" };
    if (segment.includes(':')) return { refused: 'alternate data stream' };
    if (/~\d/.test(segment)) return { refused: '8.3 short name' };
    if (/[. ]$/.test(segment)) return { refused: 'trailing dot or space (Windows strips it)' };
    if (INVALID_SEGMENT.test(segment)) return { refused: 'wildcard or control character' };
    if (DOS_DEVICE.test(segment)) return { refused: 'DOS device name' };
    segments.push(segment.toLowerCase());
  }
  return { segments };
}

const split = (path: string): string[] => {
  const plain = plainWindowsPath(path);
  if ('refused' in plain) throw new Error(`deny.ts: built-in path ${path} is not plain (${plain.refused})`);
  return plain.segments;
};
const startsWith = (segments: string[], prefix: string[]): boolean => prefix.every((segment, index) => segments[index] === segment);

interface FolderRule {
  folder: string[];
  reason: string;
  /** Below the folder, these relative paths (and what is below them) stay allowed. */
  except?: string[][];
}

function folderRules(roots: Record<KnownRoot, string>): FolderRule[] {
  const programData = split(roots.ProgramData);
  const systemRoot = split(roots.SystemRoot);
  const drive = systemRoot[0]!;
  const ours = split(DATA_FOLDER.replace(/^C:\\ProgramData/i, roots.ProgramData));
  return [
    { folder: [drive, 'users'], reason: 'user profiles' },
    { folder: [...systemRoot, 'serviceprofiles'], reason: 'service account profiles' },
    { folder: [...systemRoot, 'system32', 'config'], reason: 'registry hives and the system profile' },
    { folder: [...systemRoot, 'system32', 'microsoft', 'protect'], reason: 'DPAPI master keys' },
    { folder: [...programData, 'microsoft', 'crypto'], reason: 'machine keys' },
    { folder: [drive, 'packages'], reason: 'extension packages and their settings (RuntimeSettings)' },
    {
      folder: [...programData, 'azureconnectedmachineagent'],
      reason: "the Arc agent's tokens and configuration (only its Log folder is collected)",
      except: [['log']],
    },
    {
      folder: ours,
      reason: 'the state, transcripts and staging of remote support (only the history and logs are collected)',
      except: [[split(HISTORY_FILE).at(-1)!], ['logs']],
    },
  ];
}

/**
 * Why `path` must not be collected, or null when it may be. Every file a source lists passes here
 * before it is opened.
 */
export function deniedPathReason(path: string, options: DenyOptions = {}): string | null {
  const plain = plainWindowsPath(path);
  if ('refused' in plain) return `not a plain path: ${plain.refused}`;
  const { segments } = plain;
  for (const rule of folderRules(options.roots ?? KNOWN_ROOTS)) {
    if (!startsWith(segments, rule.folder)) continue;
    const rest = segments.slice(rule.folder.length);
    if (rule.except?.some((allowed) => rest.length >= allowed.length && startsWith(rest, allowed))) continue;
    return rule.reason;
  }
  const segment = segments.slice(1).find((name) => DENIED_SEGMENTS.includes(name));
  if (segment) return `a '${segment}' folder or file (secrets)`;
  const leaf = segments.at(-1)!;
  const extension = DENIED_EXTENSIONS.find((ext) => leaf.endsWith(ext));
  if (extension) return `a ${extension} file (keys, certificates, tokens or settings)`;
  return null;
}

/** Why an event log channel must not be exported, or null. */
export function deniedChannelReason(channel: string, options: DenyOptions = {}): string | null {
  const name = channel.trim().toLowerCase();
  if (name === 'security' && !options.securityLogOptIn) return 'the Security log needs the owner to opt in';
  return null;
}
