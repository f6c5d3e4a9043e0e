import { CATEGORIES, SOURCES, namePattern, sourceDefinitionProblems, sourceFolder, sourcesFor } from '../../diag/sources';
import { deniedChannelReason, deniedPathReason, plainWindowsPath } from '../../diag/deny';

describe('the allow-list of sources', () => {
  it('defines every source as fixed folders, plain patterns or channel names, with unique ids', () => {
    expect(SOURCES.flatMap(sourceDefinitionProblems)).toEqual([]);
    expect(new Set(SOURCES.map((source) => source.id)).size).toBe(SOURCES.length);
    for (const category of CATEGORIES) expect(SOURCES.some((source) => source.category === category)).toBe(true);
  });

  it('refuses a definition that could name another folder or stream', () => {
    const base = SOURCES.find((source) => source.id === 'arc-agent-logs')!;
    const withFolder = (folder: string) => ({ ...base, spec: { ...base.spec, folder } as typeof base.spec });
    const withPattern = (pattern: string) => ({ ...base, spec: { ...base.spec, include: [pattern] } as typeof base.spec });
    for (const folder of ['..\\Users', 'Log\\..\\Tokens', 'PROGRA~1', 'Log.', 'Log:stream', 'C:\\Users', '\\\\host\\share']) {
      expect(sourceDefinitionProblems(withFolder(folder))).not.toEqual([]);
    }
    for (const pattern of ['..\\*.pfx', '*\\*', 'a/b', '*.log:x', '*.', '..*']) {
      expect(sourceDefinitionProblems(withPattern(pattern))).not.toEqual([]);
    }
  });

  it('orders the requested categories most important first', () => {
    const picked = sourcesFor(['EventLogs', 'ArcRemoteSupport']);
    expect(picked[0]!.id).toBe('ars-history');
    expect(picked.every((source) => ['EventLogs', 'ArcRemoteSupport'].includes(source.category))).toBe(true);
    expect(picked.map((source) => source.priority)).toEqual([...picked.map((source) => source.priority)].sort((a, b) => a - b));
  });

  it('matches file-name patterns whole, case-insensitively, never across a folder', () => {
    expect(namePattern('*.log').test('HIMDS.LOG')).toBe(true);
    expect(namePattern('*.log').test('a.log.pfx')).toBe(false);
    expect(namePattern('*.log').test('sub\\a.log')).toBe(false);
    expect(namePattern('*.log').test('sub/a.log')).toBe(false);
    expect(namePattern('CBS.log').test('cbsXlog')).toBe(false);
  });
});

/** Denied places, each written as a plain path. */
const DENIED = [
  'C:\\Users\\admin\\Desktop\\notes.txt',
  'C:\\Users\\Default\\NTUSER.DAT',
  'C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\token.json',
  'C:\\ProgramData\\AzureConnectedMachineAgent\\Config\\agentconfig.json',
  'C:\\ProgramData\\AzureConnectedMachineAgent\\Certs\\myCert.cer',
  'C:\\Packages\\Plugins\\Contoso.ArcRemoteSupport\\1.0.0\\RuntimeSettings\\0.settings',
  'C:\\ProgramData\\GuestConfig\\extension_logs\\Contoso.ArcRemoteSupport\\0.settings',
  'C:\\ProgramData\\GuestConfig\\extension_logs\\Contoso.ArcRemoteSupport\\RuntimeSettings\\1.log',
  'C:\\ProgramData\\GuestConfig\\extension_logs\\Other\\client.pfx',
  'C:\\ProgramData\\GuestConfig\\extension_logs\\Other\\server.PEM',
  'C:\\ProgramData\\GuestConfig\\extension_logs\\Other\\id.key',
  'C:\\ProgramData\\GuestConfig\\extension_logs\\Other\\ca.crt',
  'C:\\ProgramData\\ArcRemoteSupport\\desired.json',
  'C:\\ProgramData\\ArcRemoteSupport\\Transcripts\\s1.txt',
  'C:\\ProgramData\\ArcRemoteSupport\\Collections\\c1\\bundle.zip',
  'C:\\ProgramData\\ArcRemoteSupport\\ArcRemoteSupport.pssc',
  'C:\\Windows\\System32\\config\\SAM',
  'C:\\Windows\\System32\\config\\systemprofile\\AppData\\x.log',
  'C:\\Windows\\ServiceProfiles\\NetworkService\\x.log',
  'C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\k',
];

/** Every other way to write a path Windows would open as the same file, or as something else entirely. */
function variants(path: string): string[] {
  const rest = path.slice(3);
  const segments = rest.split('\\');
  const leaf = segments.at(-1)!;
  return [
    path,
    path.toUpperCase(),
    path.toLowerCase(),
    path.replace(/\\/g, '/'),
    path.replace(/\\/g, '\\\\'),
    `C:\\ProgramData\\AzureConnectedMachineAgent\\Log\\..\\..\\..\\${rest}`,
    `C:\\ProgramData\\GuestConfig\\extension_logs\\x\\..\\..\\..\\..\\${rest}`,
    `C:\\ProgramData\\.\\..\\${rest}`,
    `\\\\localhost\\C$\\${rest}`,
    `\\\\?\\${path}`,
    `\\\\.\\${path}`,
    `\\??\\${path}`,
    `\\\\?\\UNC\\localhost\\C$\\${rest}`,
    `${path}:Zone.Identifier`,
    `${path}::$DATA`,
    `${path}.`,
    `${path} `,
    `${path}...`,
    [
      ...segments.slice(0, -1),
      `${leaf.slice(0, 6).toUpperCase()}~1${leaf.includes('.') ? leaf.slice(leaf.lastIndexOf('.'), leaf.lastIndexOf('.') + 4) : ''}`,
    ].join('\\'),
    `C:\\${segments[0]!.slice(0, 6).toUpperCase()}~1\\${segments.slice(1).join('\\')}`,
    `C:${rest}`,
    rest,
  ];
}

describe('the deny-list', () => {
  it.each(DENIED)('denies %s in every form it can be written', (path) => {
    for (const variant of variants(path)) {
      if (deniedPathReason(variant) === null) throw new Error(`allowed: ${variant}`);
    }
  });

  it('allows what the sources exist for', () => {
    for (const path of [
      'C:\\ProgramData\\AzureConnectedMachineAgent\\Log\\himds.log',
      'C:\\ProgramData\\GuestConfig\\extension_logs\\Contoso.ArcRemoteSupport\\handler.log',
      'C:\\ProgramData\\ArcRemoteSupport\\history.jsonl',
      'C:\\ProgramData\\ArcRemoteSupport\\Logs\\agent.log',
      'C:\\Windows\\Logs\\CBS\\CBS.log',
    ]) {
      expect([path, deniedPathReason(path)]).toEqual([path, null]);
    }
  });

  it('refuses device names and wildcards as paths, and names why', () => {
    expect(plainWindowsPath('C:\\ProgramData\\x\\NUL.log')).toEqual({ refused: 'DOS device name' });
    expect(plainWindowsPath('C:\\ProgramData\\x\\COM1')).toEqual({ refused: 'DOS device name' });
    expect(plainWindowsPath('C:\\ProgramData\\*\\x')).toEqual({ refused: 'wildcard or control character' });
    expect(deniedPathReason('C:\\Users\\a\\x.txt')).toBe('user profiles');
    expect(deniedPathReason('C:\\ProgramData\\GuestConfig\\extension_logs\\a\\b.pfx')).toMatch(/\.pfx file/);
  });

  it('denies the Security log unless the owner opted in, in any case or spacing', () => {
    for (const name of ['Security', 'SECURITY', ' security ']) {
      expect(deniedChannelReason(name)).toMatch(/opt in/);
      expect(deniedChannelReason(name, { securityLogOptIn: true })).toBeNull();
    }
    expect(deniedChannelReason('System')).toBeNull();
  });

  it('leaves no source whose own folder is denied, on default or moved roots', () => {
    const roots = { ProgramData: 'D:\\Data', SystemRoot: 'D:\\Win' };
    for (const source of SOURCES) {
      if (source.spec.kind !== 'files') continue;
      for (const pattern of source.spec.include) {
        const example = pattern.replace(/\*/g, 'example').replace(/\?/g, 'x');
        expect([source.id, deniedPathReason(`${sourceFolder(source.spec)}\\${example}`)]).toEqual([source.id, null]);
        expect([source.id, deniedPathReason(`${sourceFolder(source.spec, roots)}\\${example}`, { roots })]).toEqual([source.id, null]);
      }
    }
    expect(deniedPathReason('D:\\Data\\ArcRemoteSupport\\desired.json', { roots })).not.toBeNull();
    expect(deniedPathReason('D:\\Users\\a\\b.txt', { roots })).toBe('user profiles');
  });
});
