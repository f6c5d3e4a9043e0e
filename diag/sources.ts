/**
 * What a diagnostic collection may take: a declarative allow-list. Each source names a fixed place
 * (a folder under a known Windows root with file-name patterns, an event log channel, or a log
 * that Windows writes on request), never a path built from input. Every file a source resolves to
 * must still pass the deny-list (deny.ts); the tests prove no source can reach a denied path.
 */
import { DATA_FOLDER, HISTORY_FILE } from '../core/node-layout';

/** The fixed categories a request may name (no paths, no free text). */
export const CATEGORIES = ['ArcRemoteSupport', 'ArcAgent', 'Extensions', 'EventLogs', 'Cluster', 'HyperV', 'WindowsUpdate'] as const;
export type Category = (typeof CATEGORIES)[number];

/** The Windows roots a file source may start from, resolved per node (%ProgramData%, %SystemRoot%). */
export const KNOWN_ROOTS = { ProgramData: 'C:\\ProgramData', SystemRoot: 'C:\\Windows' } as const;
export type KnownRoot = keyof typeof KNOWN_ROOTS;

/** Files in one folder: `folder` is fixed segments below the root, `include` file-name patterns (`*`, `?`). */
export interface FileSource {
  kind: 'files';
  root: KnownRoot;
  folder: string;
  include: readonly string[];
  /** Also the folders below, to `depth` levels (the extension logs are one folder per extension). */
  depth: number;
  /** Text is redacted and tail-truncated; anything else is taken whole or skipped over its cap. */
  text: boolean;
}

/** An event log channel, exported by the host over the window (wevtutil epl with an XPath query). */
export interface EventLogSource {
  kind: 'eventLog';
  channel: string;
  /** Channels of optional roles (clustering, Hyper-V): absent is expected, not an error. */
  whenPresent: boolean;
}

/** A log Windows writes on request into a folder the host gives it (Get-ClusterLog, Get-WindowsUpdateLog). */
export interface GeneratedSource {
  kind: 'generated';
  producer: 'clusterLog' | 'windowsUpdateLog';
  whenPresent: boolean;
}

export type SourceSpec = FileSource | EventLogSource | GeneratedSource;

export interface Source {
  id: string;
  category: Category;
  /** Lower is more important: a total budget drops the highest numbers first. */
  priority: number;
  /** Bytes taken from one file at most; text keeps its tail, anything else over it is skipped. */
  maxFileBytes: number;
  /** Only when the owner opted in (the Security log). */
  optIn?: 'securityLog';
  spec: SourceSpec;
}

const MiB = 1024 * 1024;

const textFiles = (root: KnownRoot, folder: string, include: string[], depth = 0): FileSource => ({
  kind: 'files',
  root,
  folder,
  include,
  depth,
  text: true,
});
const channel = (name: string, whenPresent = false): EventLogSource => ({ kind: 'eventLog', channel: name, whenPresent });

/** Our data folder, relative to %ProgramData% (core/node-layout.ts names it absolutely). */
const OUR_DATA = DATA_FOLDER.replace(/^C:\\ProgramData\\/i, '');
const OUR_HISTORY = HISTORY_FILE.slice(DATA_FOLDER.length + 1);

export const SOURCES: readonly Source[] = [
  // Ours first: the history says what happened on the node and who did it.
  {
    id: 'ars-history',
    category: 'ArcRemoteSupport',
    priority: 10,
    maxFileBytes: 32 * MiB,
    spec: textFiles('ProgramData', OUR_DATA, [OUR_HISTORY]),
  },
  {
    id: 'ars-logs',
    category: 'ArcRemoteSupport',
    priority: 10,
    maxFileBytes: 32 * MiB,
    spec: textFiles('ProgramData', `${OUR_DATA}\\Logs`, ['*.log', '*.txt']),
  },
  // The Arc agent keeps tokens and configuration beside its Log folder: only Log is taken.
  {
    id: 'arc-agent-logs',
    category: 'ArcAgent',
    priority: 20,
    maxFileBytes: 32 * MiB,
    spec: textFiles('ProgramData', 'AzureConnectedMachineAgent\\Log', ['*.log', '*.txt']),
  },
  {
    id: 'arc-policy-logs',
    category: 'ArcAgent',
    priority: 25,
    maxFileBytes: 32 * MiB,
    spec: textFiles('ProgramData', 'GuestConfig\\arc_policy_logs', ['*.log']),
  },
  {
    id: 'arc-extension-manager-logs',
    category: 'Extensions',
    priority: 25,
    maxFileBytes: 32 * MiB,
    spec: textFiles('ProgramData', 'GuestConfig\\ext_mgr_logs', ['*.log']),
  },
  // One folder per extension (ours included), with its handler's logs.
  {
    id: 'extension-logs',
    category: 'Extensions',
    priority: 30,
    maxFileBytes: 32 * MiB,
    spec: textFiles('ProgramData', 'GuestConfig\\extension_logs', ['*.log', '*.txt'], 1),
  },
  { id: 'event-system', category: 'EventLogs', priority: 20, maxFileBytes: 256 * MiB, spec: channel('System') },
  { id: 'event-application', category: 'EventLogs', priority: 20, maxFileBytes: 256 * MiB, spec: channel('Application') },
  { id: 'event-setup', category: 'EventLogs', priority: 40, maxFileBytes: 64 * MiB, spec: channel('Setup') },
  { id: 'event-winrm', category: 'EventLogs', priority: 40, maxFileBytes: 64 * MiB, spec: channel('Microsoft-Windows-WinRM/Operational') },
  {
    id: 'event-task-scheduler',
    category: 'EventLogs',
    priority: 40,
    maxFileBytes: 64 * MiB,
    spec: channel('Microsoft-Windows-TaskScheduler/Operational'),
  },
  // Script block logging (4104) holds script text: windowed like every channel.
  {
    id: 'event-powershell',
    category: 'EventLogs',
    priority: 50,
    maxFileBytes: 64 * MiB,
    spec: channel('Microsoft-Windows-PowerShell/Operational'),
  },
  // Logons, accounts and addresses: only when the owner opted in.
  { id: 'event-security', category: 'EventLogs', priority: 60, maxFileBytes: 256 * MiB, optIn: 'securityLog', spec: channel('Security') },
  {
    id: 'event-failover-clustering',
    category: 'Cluster',
    priority: 30,
    maxFileBytes: 128 * MiB,
    spec: channel('Microsoft-Windows-FailoverClustering/Operational', true),
  },
  {
    id: 'cluster-log',
    category: 'Cluster',
    priority: 35,
    maxFileBytes: 256 * MiB,
    spec: { kind: 'generated', producer: 'clusterLog', whenPresent: true },
  },
  {
    id: 'event-hyperv-vmms-admin',
    category: 'HyperV',
    priority: 40,
    maxFileBytes: 64 * MiB,
    spec: channel('Microsoft-Windows-Hyper-V-VMMS-Admin', true),
  },
  {
    id: 'event-hyperv-vmms-operational',
    category: 'HyperV',
    priority: 45,
    maxFileBytes: 64 * MiB,
    spec: channel('Microsoft-Windows-Hyper-V-VMMS-Operational', true),
  },
  {
    id: 'event-windows-update-client',
    category: 'WindowsUpdate',
    priority: 40,
    maxFileBytes: 64 * MiB,
    spec: channel('Microsoft-Windows-WindowsUpdateClient/Operational'),
  },
  {
    id: 'windows-update-log',
    category: 'WindowsUpdate',
    priority: 45,
    maxFileBytes: 128 * MiB,
    spec: { kind: 'generated', producer: 'windowsUpdateLog', whenPresent: false },
  },
  {
    id: 'cbs-log',
    category: 'WindowsUpdate',
    priority: 50,
    maxFileBytes: 64 * MiB,
    spec: textFiles('SystemRoot', 'Logs\\CBS', ['CBS.log']),
  },
  {
    id: 'dism-log',
    category: 'WindowsUpdate',
    priority: 55,
    maxFileBytes: 64 * MiB,
    spec: textFiles('SystemRoot', 'Logs\\DISM', ['dism.log']),
  },
];

/**
 * What a channel name may hold: letters, digits, space, '.', '/', '-' (`Microsoft-Windows-WinRM/Operational`).
 * The hosts refuse any other name, so a channel can never carry a quote or an option into wevtutil.
 */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9 ./-]*$/;

/** The absolute Windows folder a file source lists. */
export function sourceFolder(spec: FileSource, roots: Record<KnownRoot, string> = KNOWN_ROOTS): string {
  return `${roots[spec.root]}\\${spec.folder}`;
}

/** The sources of the requested categories, most important first (ties keep the table's order). */
export function sourcesFor(categories: readonly Category[], sources: readonly Source[] = SOURCES): Source[] {
  return sources.filter((source) => categories.includes(source.category)).sort((a, b) => a.priority - b.priority);
}

/** The file name pattern as a whole-name, case-insensitive test (`*` and `?` never cross a folder). */
export function namePattern(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^\\\\/]*')
    .replace(/\?/g, '[^\\\\/]');
  return new RegExp(`^${body}$`, 'i');
}

/**
 * Problems with a source's own definition: a folder that is not plain fixed segments, a pattern
 * that could name a folder or another stream. Empty for every entry of SOURCES (a test says so).
 */
export function sourceDefinitionProblems(source: Source): string[] {
  const problems: string[] = [];
  const { spec } = source;
  if (!/^[a-z0-9-]+$/.test(source.id)) problems.push(`${source.id}: id must be lower-case letters, digits and '-'`);
  if (!(CATEGORIES as readonly string[]).includes(source.category)) problems.push(`${source.id}: unknown category ${source.category}`);
  if (!(source.maxFileBytes > 0)) problems.push(`${source.id}: maxFileBytes must be positive`);
  if (spec.kind === 'files') {
    const segments = spec.folder.split('\\');
    for (const segment of segments) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_ .-]*$/.test(segment) || segment === '..' || /[. ]$/.test(segment) || /~\d/.test(segment)) {
        problems.push(`${source.id}: folder segment '${segment}' is not a plain name`);
      }
    }
    for (const pattern of spec.include) {
      if (!/^[A-Za-z0-9_*?][A-Za-z0-9_*?. -]*$/.test(pattern) || /[. ]$/.test(pattern) || pattern.includes('..')) {
        problems.push(`${source.id}: pattern '${pattern}' may only hold letters, digits, '_', '-', '.', '*', '?'`);
      }
    }
    if (!Number.isInteger(spec.depth) || spec.depth < 0 || spec.depth > 2) problems.push(`${source.id}: depth must be 0, 1 or 2`);
  }
  if (spec.kind === 'eventLog' && !CHANNEL_NAME_PATTERN.test(spec.channel)) {
    problems.push(`${source.id}: channel '${spec.channel}' is not a plain channel name`);
  }
  return problems;
}
