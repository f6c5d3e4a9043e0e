/**
 * What the JEA endpoint must do, as data: command lines a support engineer might send, each with
 * what must happen (runs, or is refused with one of the named errors), and the shape every session
 * must have (exactly these visible commands, no language, no provider, the protected services
 * still running). test/jea/runspace.test.ts judges the shipped roles against it; test/jea/
 * mutation.test.ts judges weakened copies of the roles and expects failures.
 *
 * The spec is written independently of the role files: the commands each level sees are listed
 * here by hand, and every refused value names the parameter it attacks, so a test can check that
 * each constrained parameter of the roles has a case. Cases for the parameters a role hides are
 * made from the Windows Server 2016 inventory: every real parameter and alias a visible command
 * has and the role does not list.
 */
import { PROTECTED_SERVICE_TABLE } from '../../../core/node-layout';
import { RoleDefinition } from '../../../jea/role-model';
import { Inventory, findCommand } from './inventory';

export type Session = 'Diagnostics' | 'DiagnosticsAndRepair' | 'NoGroup';
export const SESSIONS: readonly Session[] = ['Diagnostics', 'DiagnosticsAndRepair', 'NoGroup'];

/** How the unrestricted control session must take a refused line: run it, or at least know its command and parameters. */
export type Control = 'runs' | 'binds' | 'none';

export interface Expectation {
  session: Session;
  line?: string;
  script?: string;
  /** The outcome: runs (with this output, when given), or refused with one of these error ids. */
  runs?: { output?: string[] };
  refused?: readonly string[];
  /** The command the case exercises, and the parameter a refused value attacks. */
  command?: string;
  parameter?: string;
  control: Control;
  group: string;
  /** The node agent calls the line makes: none, or exactly one with these arguments (a RegExp matches one). */
  agentCall?: 'none' | readonly (string | RegExp)[];
}

/** What RestrictedRemoteServer shows everyone. */
export const DEFAULT_COMMANDS = [
  'Clear-Host',
  'Exit-PSSession',
  'Get-Command',
  'Get-FormatData',
  'Get-Help',
  'Measure-Object',
  'Out-Default',
  'Select-Object',
];
export const DIAGNOSTICS_COMMANDS = [
  'Get-Service',
  'Get-Process',
  'Get-WinEvent',
  'Get-EventLog',
  'Get-Counter',
  'Get-ComputerInfo',
  'Get-HotFix',
  'Get-CimInstance',
  'Get-Date',
  'Get-TimeZone',
  'Resolve-DnsName',
  'Where-Object',
  'Sort-Object',
  'Format-List',
  'Format-Table',
  'Get-NetAdapter',
  'Get-NetIPAddress',
  'Get-NetIPConfiguration',
  'Get-NetRoute',
  'Get-NetTCPConnection',
  'Test-NetConnection',
  'Get-DnsClientServerAddress',
  'Get-DnsClientCache',
  'Get-NetFirewallProfile',
  'Get-Volume',
  'Get-Disk',
  'Get-ScheduledTask',
  'Get-ScheduledTaskInfo',
  'Request-RemoteSupportLogCollection',
  'Get-RemoteSupportLogCollectionHistory',
];
export const REPAIR_COMMANDS = ['Start-Service', 'Stop-Service', 'Restart-Service', 'Clear-DnsClientCache', 'Register-DnsClient'];
export const VISIBLE: Readonly<Record<Session, readonly string[]>> = {
  Diagnostics: [...DEFAULT_COMMANDS, ...DIAGNOSTICS_COMMANDS].sort(),
  DiagnosticsAndRepair: [...DEFAULT_COMMANDS, ...DIAGNOSTICS_COMMANDS, ...REPAIR_COMMANDS].sort(),
  NoGroup: [...DEFAULT_COMMANDS].sort(),
};

/** The fake service table: the protected services, HTTP (WinRM depends on it) and ordinary ones. */
export const ORDINARY_SERVICES = [
  { name: 'Spooler', displayName: 'Print Spooler', dependents: [] },
  { name: 'W32Time', displayName: 'Windows Time', dependents: [] },
  { name: 'Dnscache', displayName: 'DNS Client', dependents: [] },
];
export const SERVICE_TABLE = [
  ...PROTECTED_SERVICE_TABLE.map((s) => ({ name: s.name, displayName: s.displayNames[0] ?? s.name, dependents: [] as string[] })),
  { name: 'HTTP', displayName: 'HTTP Service', dependents: ['WinRM'] },
  ...ORDINARY_SERVICES,
];
/** What must still be running after any session: the protected services, and HTTP (WinRM's dependency). */
export const MUST_KEEP_RUNNING = [...PROTECTED_SERVICE_TABLE.map((s) => s.name), 'HTTP'];

const VALIDATION = ['ParameterArgumentValidationError'];
const HIDDEN = ['NamedParameterNotFound'];
/** A hidden parameter's name can also be a prefix of several visible ones: refused as ambiguous. */
const HIDDEN_OR_AMBIGUOUS = ['NamedParameterNotFound', 'AmbiguousParameter'];
const NOT_FOUND = ['CommandNotFoundException'];
const MANDATORY = ['MissingMandatoryParameter'];

const commandOf = (line: string): string => (line.split(/\s|\|/)[0] ?? line).split('\\').pop() ?? line;

function runs(session: Session, line: string, group: string, output?: string[]): Expectation {
  return { session, line, runs: output ? { output } : {}, command: commandOf(line), control: 'none', group };
}

function refused(session: Session, line: string, errors: readonly string[], group: string, extra: Partial<Expectation> = {}): Expectation {
  return { session, line, refused: errors, command: commandOf(line), control: 'runs', group, ...extra };
}

/** A value outside a parameter's constraint: refused by the role, taken by the unrestricted command. */
function badValue(session: Session, command: string, parameter: string, value: string, extra: Partial<Expectation> = {}): Expectation {
  return refused(session, `${command} -${parameter} ${value}`, VALIDATION, 'values outside the role', { parameter, ...extra });
}

const UNC = '"\\\\otherhost\\c$\\Windows"';
const QUERY_LIST = `'<QueryList><Query Id="0"><Select Path="Security">*</Select></Query></QueryList>'`;

// ---- Diagnostics --------------------------------------------------------------------------

const diagnosticsRuns: Expectation[] = [
  runs('Diagnostics', 'Get-Service', 'runs'),
  runs('Diagnostics', 'Get-Service -Name Spooler', 'runs', ['Spooler']),
  runs('Diagnostics', 'Get-Service -DisplayName "Print Spooler"', 'runs', ['Spooler']),
  runs('Diagnostics', 'Get-Service -Name Sp* -DependentServices', 'runs'),
  runs('Diagnostics', 'Get-Process -Name pwsh', 'runs', ['Get-Process Name=pwsh']),
  runs('Diagnostics', 'Get-WinEvent -LogName System -MaxEvents 50', 'runs', ['Get-WinEvent FilterXPath=*;LogName=System;MaxEvents=50']),
  runs(
    'Diagnostics',
    'Get-WinEvent -LogName Microsoft-Windows-WinRM/Operational -Level Error,Information -Id 7036,7040 -ProviderName "Service Control Manager" -Hours 24 -Oldest',
    'runs',
    [
      "Get-WinEvent FilterXPath=*[System[(Level=2 or Level=0 or Level=4) and (EventID=7036 or EventID=7040) and Provider[@Name='Service Control Manager'] and TimeCreated[timediff(@SystemTime) <= 86400000]]];LogName=Microsoft-Windows-WinRM/Operational;Oldest=True",
    ],
  ),
  // -ProviderName filters within the named log; it never picks another log as the cmdlet's does.
  runs('Diagnostics', 'Get-WinEvent -LogName System -ProviderName Microsoft-Windows-Security-Auditing', 'runs', [
    "Get-WinEvent FilterXPath=*[System[Provider[@Name='Microsoft-Windows-Security-Auditing']]];LogName=System",
  ]),
  runs('Diagnostics', 'Get-EventLog -LogName System -Newest 20 -EntryType Error', 'runs', [
    'Get-EventLog EntryType=Error;LogName=System;Newest=20',
  ]),
  runs('Diagnostics', 'Get-CimInstance -ClassName Win32_OperatingSystem -Property Caption,Version', 'runs', [
    'Get-CimInstance ClassName=Win32_OperatingSystem;Property=Caption,Version',
  ]),
  runs('Diagnostics', 'Get-Counter -Counter "\\Processor(_Total)\\% Processor Time" -MaxSamples 3', 'runs'),
  runs('Diagnostics', 'Get-NetIPConfiguration -InterfaceIndex 3', 'runs', ['Get-NetIPConfiguration InterfaceIndex=3']),
  runs('Diagnostics', 'Test-NetConnection -ComputerName management.azure.com -Port 443', 'runs', [
    'Test-NetConnection ComputerName=management.azure.com;Port=443',
  ]),
  runs('Diagnostics', 'Get-ScheduledTask -TaskPath \\ArcRemoteSupport\\', 'runs'),
  runs('Diagnostics', 'Get-ScheduledTaskInfo -TaskName Reconcile -TaskPath \\ArcRemoteSupport\\', 'runs'),
  runs('Diagnostics', 'Resolve-DnsName -Name management.azure.com -Type A', 'runs'),
  runs('Diagnostics', 'Get-Volume -DriveLetter C', 'runs', ['Get-Volume DriveLetter=C']),
  runs('Diagnostics', 'Get-Service | Where-Object -Property Status -EQ -Value Running', 'runs'),
  runs('Diagnostics', 'Get-Service | Sort-Object -Property Name -Descending', 'runs'),
  runs('Diagnostics', 'Get-Service | Format-Table -Property Name,Status -AutoSize', 'runs'),
  runs('Diagnostics', 'Get-Date -Format o', 'runs'),
  runs('Diagnostics', 'Get-TimeZone -ListAvailable', 'runs'),
];

/** Every door to another log or file that Get-WinEvent and Get-EventLog have on Windows. */
const eventLogs: Expectation[] = [
  badValue('Diagnostics', 'Get-WinEvent', 'LogName', 'Security'),
  badValue('Diagnostics', 'Get-WinEvent', 'LogName', 'sECURITY'),
  badValue('Diagnostics', 'Get-WinEvent', 'LogName', 'Microsoft-Windows-PowerShell/Operational'),
  refused('Diagnostics', 'Get-WinEvent -LogName System,Security', [...VALIDATION, 'ParameterArgumentTransformationError'], 'event logs', {
    parameter: 'LogName',
  }),
  // Without -LogName the cmdlet reads every log.
  refused('Diagnostics', 'Get-WinEvent -MaxEvents 5', MANDATORY, 'event logs'),
  refused('Diagnostics', 'Get-WinEvent', MANDATORY, 'event logs'),
  refused('Diagnostics', 'Get-WinEvent -ProviderName Microsoft-Windows-Security-Auditing', MANDATORY, 'event logs'),
  // A structured query names its own log; with several logs crafted XPath opens another <Select>.
  refused('Diagnostics', `Get-WinEvent -LogName System -FilterXPath ${QUERY_LIST}`, HIDDEN, 'event logs'),
  refused('Diagnostics', `Get-WinEvent -LogName System -FilterXPath "*</Select><Select Path='Security'>*"`, HIDDEN, 'event logs'),
  refused('Diagnostics', `Get-WinEvent -FilterXml ${QUERY_LIST}`, HIDDEN, 'event logs', { control: 'binds' }),
  refused('Diagnostics', "Get-WinEvent -FilterHashtable @{ LogName = 'Security' }", HIDDEN, 'event logs'),
  refused(
    'Diagnostics',
    "Get-WinEvent -FilterHashtable @{ Path = 'C:\\Windows\\System32\\winevt\\Logs\\Security.evtx' }",
    HIDDEN,
    'event logs',
  ),
  refused('Diagnostics', 'Get-WinEvent -Path C:\\Windows\\System32\\winevt\\Logs\\Security.evtx', HIDDEN, 'event logs'),
  refused('Diagnostics', 'Get-WinEvent -ListLog *', HIDDEN, 'event logs'),
  refused('Diagnostics', 'Get-WinEvent -ListProvider *', HIDDEN, 'event logs'),
  refused('Diagnostics', 'Get-WinEvent -LogName System -ComputerName otherhost', HIDDEN, 'event logs'),
  // Our function's own filters: text that would break out of the XPath it builds is refused.
  ...[
    ['ProviderName', `"x']] or *[System[EventID=4624"`],
    ['ProviderName', QUERY_LIST],
    ['MaxEvents', '100000'],
    ['Level', 'LogAlways'],
    ['Id', '100000'],
    ['Hours', '0'],
  ].map(([parameter, value]) =>
    badValue('Diagnostics', 'Get-WinEvent -LogName System', parameter!, value!, { command: 'Get-WinEvent', control: 'none' }),
  ),
  badValue('Diagnostics', 'Get-EventLog', 'LogName', 'Security'),
  badValue('Diagnostics', 'Get-EventLog -LogName System', 'Newest', '100000', { command: 'Get-EventLog' }),
  badValue('Diagnostics', 'Get-EventLog -LogName System', 'EntryType', 'SuccessAudit', { command: 'Get-EventLog' }),
  badValue('Diagnostics', 'Get-EventLog -LogName System', 'Source', UNC, { command: 'Get-EventLog' }),
  refused('Diagnostics', 'Get-EventLog -List', HIDDEN, 'event logs'),
  refused('Diagnostics', 'Microsoft.PowerShell.Diagnostics\\Get-WinEvent -LogName Security', NOT_FOUND, 'module-qualified names'),
];

/** Values outside each constrained parameter of the other Diagnostics commands. */
const diagnosticsValues: Expectation[] = [
  badValue('Diagnostics', 'Get-Service', 'Name', UNC),
  badValue('Diagnostics', 'Get-Service', 'DisplayName', UNC),
  badValue('Diagnostics', 'Get-Service -Name Spooler', 'Include', UNC, { command: 'Get-Service' }),
  badValue('Diagnostics', 'Get-Service -Name Spooler', 'Exclude', UNC, { command: 'Get-Service' }),
  badValue('Diagnostics', 'Get-Process', 'Name', UNC),
  badValue('Diagnostics', 'Get-Process -Module', 'Id', '-1', { command: 'Get-Process' }),
  badValue('Diagnostics', 'Get-Counter', 'Counter', '"\\\\OTHERHOST\\Processor(_Total)\\% Processor Time"'),
  badValue('Diagnostics', 'Get-Counter', 'SampleInterval', '100'),
  badValue('Diagnostics', 'Get-Counter', 'MaxSamples', '1000'),
  badValue('Diagnostics', 'Get-Counter', 'ListSet', UNC),
  badValue('Diagnostics', 'Get-ComputerInfo', 'Property', UNC),
  badValue('Diagnostics', 'Get-HotFix', 'Id', UNC),
  badValue('Diagnostics', 'Get-HotFix', 'Description', UNC),
  badValue('Diagnostics', 'Get-CimInstance', 'ClassName', 'Win32_UserAccount'),
  badValue('Diagnostics', 'Get-CimInstance -ClassName Win32_OperatingSystem', 'Property', `"* FROM Win32_UserAccount WHERE Name<>''"`, {
    command: 'Get-CimInstance',
  }),
  badValue('Diagnostics', 'Get-Date', 'Format', '"dddd MMMM"'),
  badValue('Diagnostics', 'Resolve-DnsName', 'Name', UNC),
  badValue('Diagnostics', 'Resolve-DnsName -Name example.com', 'Type', 'AXFR', { command: 'Resolve-DnsName' }),
  badValue('Diagnostics', 'Resolve-DnsName -Name example.com', 'Server', UNC, { command: 'Resolve-DnsName' }),
  badValue('Diagnostics', 'Get-Service | Where-Object', 'Property', 'Status.Length', {
    command: 'Where-Object',
    line: 'Get-Service | Where-Object -Property Status.Length -EQ -Value 7',
  }),
  badValue('Diagnostics', 'Get-Service | Sort-Object', 'Property', "@{ Expression = 'Name' }", { command: 'Sort-Object' }),
  badValue('Diagnostics', 'Get-Service | Format-List', 'Property', "@{ Expression = 'Name' }", { command: 'Format-List' }),
  badValue('Diagnostics', 'Get-Service | Format-Table', 'Property', "@{ Expression = 'Name' }", { command: 'Format-Table' }),
  badValue('Diagnostics', 'Get-NetAdapter', 'Name', UNC),
  badValue('Diagnostics', 'Get-NetAdapter', 'InterfaceIndex', '10000000'),
  badValue('Diagnostics', 'Get-NetIPAddress', 'InterfaceAlias', UNC),
  badValue('Diagnostics', 'Get-NetIPAddress', 'InterfaceIndex', '10000000'),
  badValue('Diagnostics', 'Get-NetIPAddress', 'AddressFamily', 'IPv5'),
  badValue('Diagnostics', 'Get-NetIPAddress', 'IPAddress', UNC),
  badValue('Diagnostics', 'Get-NetIPConfiguration', 'InterfaceAlias', UNC),
  badValue('Diagnostics', 'Get-NetIPConfiguration', 'InterfaceIndex', '10000000'),
  badValue('Diagnostics', 'Get-NetRoute', 'InterfaceAlias', UNC),
  badValue('Diagnostics', 'Get-NetRoute', 'InterfaceIndex', '10000000'),
  badValue('Diagnostics', 'Get-NetRoute', 'AddressFamily', 'IPv5'),
  badValue('Diagnostics', 'Get-NetRoute', 'DestinationPrefix', UNC),
  badValue('Diagnostics', 'Get-NetTCPConnection', 'State', 'Listening'),
  badValue('Diagnostics', 'Get-NetTCPConnection', 'LocalPort', '0'),
  badValue('Diagnostics', 'Get-NetTCPConnection', 'RemotePort', '0'),
  badValue('Diagnostics', 'Get-NetTCPConnection', 'RemoteAddress', UNC),
  badValue('Diagnostics', 'Get-NetTCPConnection', 'OwningProcess', '4000000000'),
  badValue('Diagnostics', 'Test-NetConnection', 'ComputerName', UNC),
  badValue('Diagnostics', 'Test-NetConnection -ComputerName example.com', 'Port', '0', { command: 'Test-NetConnection' }),
  badValue('Diagnostics', 'Test-NetConnection -ComputerName example.com', 'CommonTCPPort', 'SSH', { command: 'Test-NetConnection' }),
  badValue('Diagnostics', 'Test-NetConnection -ComputerName example.com', 'Hops', '100', { command: 'Test-NetConnection' }),
  badValue('Diagnostics', 'Test-NetConnection -ComputerName example.com', 'InformationLevel', 'Verbose', { command: 'Test-NetConnection' }),
  badValue('Diagnostics', 'Get-DnsClientServerAddress', 'InterfaceAlias', UNC),
  badValue('Diagnostics', 'Get-DnsClientServerAddress', 'InterfaceIndex', '10000000'),
  badValue('Diagnostics', 'Get-DnsClientServerAddress', 'AddressFamily', 'IPv5'),
  badValue('Diagnostics', 'Get-DnsClientCache', 'Entry', UNC),
  badValue('Diagnostics', 'Get-NetFirewallProfile', 'Name', 'Any'),
  badValue('Diagnostics', 'Get-Volume', 'DriveLetter', '1'),
  badValue('Diagnostics', 'Get-Volume', 'FileSystemLabel', UNC),
  badValue('Diagnostics', 'Get-Disk', 'Number', '4000'),
  badValue('Diagnostics', 'Get-ScheduledTask', 'TaskName', UNC),
  badValue('Diagnostics', 'Get-ScheduledTask', 'TaskPath', 'C:\\Windows\\System32\\Tasks\\'),
  badValue('Diagnostics', 'Get-ScheduledTaskInfo -TaskName Reconcile', 'TaskPath', UNC, { command: 'Get-ScheduledTaskInfo' }),
  badValue('Diagnostics', 'Get-ScheduledTaskInfo', 'TaskName', UNC),
  // No calculated property, no script block (a client sends one as a string).
  refused(
    'Diagnostics',
    'Get-Service | Where-Object -FilterScript { $true }',
    ['CantConvertWithScriptBlocks', ...HIDDEN],
    'no script blocks',
    { control: 'none' },
  ),
];

const diagnosticsCannotChange = [
  'Stop-Service -Name Spooler',
  'Restart-Service -Name Spooler',
  'Start-Service -Name Spooler',
  'Clear-DnsClientCache',
  'Set-Service -Name Spooler -StartupType Disabled',
].map((line) => refused('Diagnostics', line, NOT_FOUND, 'Diagnostics changes nothing'));

// ---- both levels --------------------------------------------------------------------------

const notForAnyoneLines = [
  'Start-Process -FilePath /bin/true',
  'Invoke-Expression -Command Get-Date',
  'Invoke-Command -ScriptBlock Get-Date',
  'Get-Service | ForEach-Object -MemberName Name',
  'Get-ChildItem -Path /',
  'Get-Content -Path /etc/hostname',
  'Get-Item -Path /etc/hostname',
  'Set-Location -Path /',
  'Get-PSDrive',
  'Get-PSProvider',
  'ls',
  '/bin/ls /',
  'Receive-Job -Id 1',
  'Add-Type -TypeDefinition x',
  'New-Service -Name evil -BinaryPathName C:\\evil.exe',
  'Set-Service -Name EventLog -StartupType Disabled',
  'Microsoft.PowerShell.Management\\Get-ChildItem -Path /',
  'Microsoft.PowerShell.Management\\Get-Process -ComputerName otherhost',
  'Microsoft.PowerShell.Management\\Set-Service -Name EventLog -StartupType Disabled',
  'Microsoft.PowerShell.Utility\\Invoke-Expression -Command Get-Date',
  'CimCmdlets\\Get-CimInstance -ClassName Win32_UserAccount',
  'NetTCPIP\\Get-NetIPAddress -CimSession otherhost',
  'Microsoft.PowerShell.Management\\Get-Service -ComputerName otherhost',
];
/** Lines the unrestricted session takes but does not complete here (no job 1, no code to compile). */
const CONTROL_BINDS = new Set(['Invoke-Command -ScriptBlock Get-Date', 'Receive-Job -Id 1', 'Add-Type -TypeDefinition x']);
const notForAnyone = (['Diagnostics', 'DiagnosticsAndRepair'] as const).flatMap((session) =>
  notForAnyoneLines.map((line) =>
    refused(session, line, NOT_FOUND, 'not for anyone', { control: CONTROL_BINDS.has(line) ? 'binds' : 'runs' }),
  ),
);
const noScriptBlocks = (['Diagnostics', 'DiagnosticsAndRepair'] as const).flatMap((session) => [
  refused(session, 'Where-Object -FilterScript { $true }', ['CantConvertWithScriptBlocks'], 'no script blocks', { control: 'none' }),
  refused(session, "Where-Object -FilterScript '$true'", HIDDEN, 'no script blocks', { control: 'none' }),
  refused(
    session,
    'Select-Object -InputObject x -Property @{ Name = "x"; Expression = "[IO.File]::ReadAllText(\'/etc/hostname\')" }',
    ['ExpressionNotFound', ...HIDDEN, 'ParameterArgumentValidationError'],
    'no script blocks',
    { control: 'none' },
  ),
]);
const scripts: Expectation[] = (['Diagnostics', 'DiagnosticsAndRepair'] as const).flatMap((session) =>
  ['Get-Date', '& { Get-Date }', '[IO.File]::ReadAllText("/etc/hostname")'].map((script) => ({
    session,
    script,
    refused: ['ScriptsNotAllowed'],
    control: 'none' as const,
    group: 'no language',
  })),
);

// ---- the engineer's log collection --------------------------------------------------------

/** The user each session's $PSSenderInfo names (the stand-in of WinRM's authenticated user). */
export const CONNECTED_USER = 'ARS-TEST-NODE\\ars-engineer-7';
const REQUEST = 'Request-RemoteSupportLogCollection';
const AGENT_JS = /[\\/]Program Files[\\/]ArcRemoteSupport[\\/]agent\.js$/;
const UTC_SECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const WINDOW_REFUSED = ['LogCollectionWindowRefused'];
const requestCall = (from: string | RegExp, to: string | RegExp, categories: string): Array<string | RegExp> => [
  AGENT_JS,
  'request-log-collection',
  '--from',
  from,
  '--to',
  to,
  '--category',
  categories,
  '--requested-by',
  CONNECTED_USER,
];

/** What the engineer's collection function runs, and every window or value it refuses before the agent. */
const logCollection: Expectation[] = [
  {
    ...runs('Diagnostics', `${REQUEST} -Category EventLogs,ArcAgent -From 2026-01-01T00:00Z -To 2026-01-01T06:00Z`, 'log collection'),
    agentCall: requestCall('2026-01-01T00:00:00Z', '2026-01-01T06:00:00Z', 'EventLogs,ArcAgent'),
  },
  // Exactly 24 hours, seconds given, a category twice: passed once.
  {
    ...runs(
      'Diagnostics',
      `${REQUEST} -Category EventLogs,EventLogs -From 2026-01-01T00:00:30Z -To 2026-01-02T00:00:30Z`,
      'log collection',
    ),
    agentCall: requestCall('2026-01-01T00:00:30Z', '2026-01-02T00:00:30Z', 'EventLogs'),
  },
  {
    ...runs('Diagnostics', `${REQUEST} -Category WindowsUpdate -Hours 2`, 'log collection'),
    agentCall: requestCall(UTC_SECOND, UTC_SECOND, 'WindowsUpdate'),
  },
  {
    ...runs('DiagnosticsAndRepair', `${REQUEST} -Category ArcRemoteSupport -Hours 24`, 'log collection'),
    agentCall: requestCall(UTC_SECOND, UTC_SECOND, 'ArcRemoteSupport'),
  },
  // The agent refuses (another collection runs): its words come back as the error.
  {
    ...refused('Diagnostics', `${REQUEST} -Category Cluster -Hours 1`, ['LogCollectionRefused'], 'log collection', { control: 'none' }),
    agentCall: requestCall(UTC_SECOND, UTC_SECOND, 'Cluster'),
  },
  { ...runs('Diagnostics', 'Get-RemoteSupportLogCollectionHistory', 'log collection'), agentCall: [AGENT_JS, 'history', '--json'] },
  // Refused before the agent is called.
  ...[
    `${REQUEST} -Category EventLogs -From 2026-01-01T00:00Z -To 2026-01-02T00:01Z`,
    `${REQUEST} -Category EventLogs -From 2098-12-31T12:00Z -To 2099-01-01T00:00Z`,
    `${REQUEST} -Category EventLogs -From 2026-01-01T06:00Z -To 2026-01-01T06:00Z`,
    `${REQUEST} -Category EventLogs -From 2026-01-01T07:00Z -To 2026-01-01T06:00Z`,
    `${REQUEST} -Category EventLogs -From 2026-02-30T00:00Z -To 2026-03-01T00:00Z`,
    `${REQUEST} -Category EventLogs`,
    `${REQUEST} -Category EventLogs -From 2026-01-01T00:00Z`,
    `${REQUEST} -Category EventLogs -Hours 1 -From 2026-01-01T00:00Z -To 2026-01-01T06:00Z`,
  ].map((line) => ({
    ...refused('Diagnostics', line, WINDOW_REFUSED, 'log collection', { control: 'none' as const }),
    agentCall: 'none' as const,
  })),
  ...[
    ['Hours', '0'],
    ['Hours', '25'],
    ['Hours', '-1'],
    ['From', '"2026-01-01 00:00"'],
    ['From', UNC],
    ['To', '2026-01-01T06:00+02:00'],
    ['To', `"2026-01-01T06:00Z' --category Security"`],
  ].map(([parameter, value]) => ({
    ...badValue('Diagnostics', `${REQUEST} -Category EventLogs`, parameter!, value!, {
      command: REQUEST,
      control: 'none',
      group: 'log collection',
    }),
    agentCall: 'none' as const,
  })),
  ...['Security', 'All', UNC, 'EventLogs,Security'].map((value) => ({
    ...badValue('Diagnostics', `${REQUEST} -Hours 1`, 'Category', value, { command: REQUEST, control: 'none', group: 'log collection' }),
    agentCall: 'none' as const,
  })),
  // No path, URL, other machine or free text: no such parameter.
  ...['-Path C:\\Windows', '-Uri https://example.com/c?sig=x', '-ContainerSas x', '-ComputerName otherhost', '-RequestedBy someone'].map(
    (extra) => ({
      ...refused('Diagnostics', `${REQUEST} -Category EventLogs -Hours 1 ${extra}`, HIDDEN, 'log collection', { control: 'none' as const }),
      agentCall: 'none' as const,
    }),
  ),
  { ...refused('Diagnostics', `${REQUEST} -Hours 1`, MANDATORY, 'log collection', { control: 'none' }), agentCall: 'none' },
  {
    ...refused('Diagnostics', 'Get-RemoteSupportLogCollectionHistory -FromDate 2026-01-01', HIDDEN, 'log collection', { control: 'none' }),
    agentCall: 'none',
  },
  { ...refused('NoGroup', `${REQUEST} -Category EventLogs -Hours 1`, NOT_FOUND, 'log collection', { control: 'none' }), agentCall: 'none' },
];

// ---- DiagnosticsAndRepair -----------------------------------------------------------------

const repairRuns: Expectation[] = [
  runs('DiagnosticsAndRepair', 'Restart-Service -Name Spooler', 'repairs'),
  runs('DiagnosticsAndRepair', 'Stop-Service -Name W32Time', 'repairs'),
  runs('DiagnosticsAndRepair', 'Start-Service -Name W32Time', 'repairs'),
  runs('DiagnosticsAndRepair', 'Clear-DnsClientCache', 'repairs'),
  runs('DiagnosticsAndRepair', 'Register-DnsClient', 'repairs'),
  runs('DiagnosticsAndRepair', 'Get-WinEvent -LogName Application -MaxEvents 5', 'repairs'),
];
export const REPAIR_ACTIONS = ['Restart Spooler', 'Stop W32Time', 'Start W32Time'];

const SERVICE_VERBS = ['Stop-Service', 'Restart-Service', 'Start-Service'];
/** Each protected service, in three spellings, by each service verb. */
const protectedByName = PROTECTED_SERVICE_TABLE.flatMap(({ name }) =>
  SERVICE_VERBS.flatMap((verb) =>
    [name, name.toLowerCase(), name.toUpperCase()].map((spelling) =>
      badValue('DiagnosticsAndRepair', verb, 'Name', spelling, { group: 'protected services' }),
    ),
  ),
);
/** Each protected service by every other way in: position, alias, pipeline, display name, object, list, wildcard. */
const protectedOtherWays = PROTECTED_SERVICE_TABLE.flatMap(({ name, displayNames }) => [
  refused('DiagnosticsAndRepair', `Stop-Service ${name}`, VALIDATION, 'protected services', { parameter: 'Name' }),
  refused('DiagnosticsAndRepair', `Stop-Service -ServiceName ${name}`, VALIDATION, 'protected services', { parameter: 'Name' }),
  refused('DiagnosticsAndRepair', `Stop-Service -InputObject ${name}`, HIDDEN, 'protected services'),
  refused('DiagnosticsAndRepair', `Restart-Service -Name Spooler,${name}`, VALIDATION, 'protected services', { parameter: 'Name' }),
  refused('DiagnosticsAndRepair', `Stop-Service -Name ${name.slice(0, 3)}*`, VALIDATION, 'protected services', { parameter: 'Name' }),
  // The fake table knows each service by its first display name; the others are later Windows names.
  ...displayNames.flatMap((display, i) => [
    refused('DiagnosticsAndRepair', `Stop-Service -Name "${display}"`, VALIDATION, 'protected services', {
      parameter: 'Name',
      control: i === 0 ? 'runs' : 'binds',
    }),
    refused('DiagnosticsAndRepair', `Stop-Service -DisplayName "${display}"`, HIDDEN, 'protected services'),
  ]),
]);
/**
 * By pipeline: the service objects bind to -Name by property name, and the same constraint refuses
 * them. One service of each kind (a refused pipeline binding takes JEA's proxy a few hundred ms).
 */
const protectedByPipeline = ['WinRM', 'GCArcService', 'EventLog', 'SysmonDrv', 'BFE', 'Sense'].flatMap((name) => [
  refused('DiagnosticsAndRepair', `Get-Service -Name ${name} | Stop-Service`, VALIDATION, 'protected services', {
    parameter: 'Name',
    command: 'Stop-Service',
  }),
]);
const otherServiceDoors: Expectation[] = [
  refused('DiagnosticsAndRepair', 'Get-Service -Name WinRM | Restart-Service', VALIDATION, 'protected services', {
    parameter: 'Name',
    command: 'Restart-Service',
  }),
  refused('DiagnosticsAndRepair', 'Get-Service -Name Schedule | Start-Service', VALIDATION, 'protected services', {
    parameter: 'Name',
    command: 'Start-Service',
  }),
  refused('DiagnosticsAndRepair', 'Stop-Service -Name *', VALIDATION, 'protected services', { parameter: 'Name' }),
  refused('DiagnosticsAndRepair', 'Stop-Service -Name W?nRM', VALIDATION, 'protected services', { parameter: 'Name' }),
  refused('DiagnosticsAndRepair', 'Stop-Service -Name [E]ventLog', VALIDATION, 'protected services', { parameter: 'Name' }),
  refused('DiagnosticsAndRepair', 'Stop-Service -Name HTTP -Force', HIDDEN, 'protected services'),
  refused('DiagnosticsAndRepair', 'Stop-Service -Name Spooler -Include EventLog', HIDDEN, 'protected services', { control: 'binds' }),
  refused('DiagnosticsAndRepair', 'Stop-Service -Name Spooler -NoWait', HIDDEN, 'protected services'),
  refused('DiagnosticsAndRepair', 'Suspend-Service -Name EventLog', NOT_FOUND, 'protected services'),
  refused('DiagnosticsAndRepair', 'Microsoft.PowerShell.Management\\Stop-Service -Name WinRM', NOT_FOUND, 'module-qualified names'),
  refused(
    'DiagnosticsAndRepair',
    'Microsoft.PowerShell.Management\\Restart-Service -Name EventLog -Force',
    NOT_FOUND,
    'module-qualified names',
  ),
  refused('DiagnosticsAndRepair', 'DnsClient\\Clear-DnsClientCache -CimSession otherhost', NOT_FOUND, 'module-qualified names', {
    control: 'binds',
  }),
  refused('DiagnosticsAndRepair', 'Clear-DnsClientCache -CimSession otherhost', HIDDEN, 'protected services', { control: 'binds' }),
  // Stopping what WinRM depends on takes WinRM down: refused without -Force (by Windows, not the role).
  {
    session: 'DiagnosticsAndRepair',
    line: 'Stop-Service -Name HTTP',
    refused: ['ServiceHasDependentServices'],
    command: 'Stop-Service',
    control: 'none',
    group: 'protected services',
  },
];

/** Module-qualified names that must resolve, from inside each session, to a real private command. */
export const QUALIFIED_NAMES: Readonly<Record<Session, readonly string[]>> = {
  Diagnostics: [
    'Microsoft.PowerShell.Diagnostics\\Get-WinEvent',
    'Microsoft.PowerShell.Management\\Get-Process',
    'Microsoft.PowerShell.Management\\Get-Service',
    'Microsoft.PowerShell.Management\\Stop-Service',
    'Microsoft.PowerShell.Management\\Set-Service',
    'Microsoft.PowerShell.Management\\Get-ChildItem',
    'Microsoft.PowerShell.Utility\\Invoke-Expression',
    'CimCmdlets\\Get-CimInstance',
    'NetTCPIP\\Get-NetIPAddress',
  ],
  DiagnosticsAndRepair: [
    'Microsoft.PowerShell.Management\\Stop-Service',
    'Microsoft.PowerShell.Management\\Restart-Service',
    'Microsoft.PowerShell.Management\\Set-Service',
    'Microsoft.PowerShell.Diagnostics\\Get-WinEvent',
    'DnsClient\\Clear-DnsClientCache',
  ],
  NoGroup: [],
};

/** A value that binds to a parameter of this type in the unrestricted stand-in. */
function sampleValue(type: string): string | undefined {
  const element = type.replace(/\[\]$/, '').replace(/^System\./, '');
  if (/SwitchParameter$/.test(element)) return undefined;
  if (/^U?Int(16|32|64)$|^Byte$|^Double$/.test(element)) return '1';
  if (element === 'Boolean') return '$true';
  if (/DateTime/.test(element)) return '2026-01-01';
  return 'x';
}

/**
 * For each visible command of the roles, every parameter and alias the Windows command has and the
 * role does not list: refused as unknown, while the unrestricted command knows it. WhatIf and
 * Confirm stay (they only ask or preview).
 */
export function hiddenParameterCases(roles: readonly RoleDefinition[], inventory: Inventory): Expectation[] {
  const cases: Expectation[] = [];
  for (const role of roles) {
    const session: Session = role.name === 'Repair' ? 'DiagnosticsAndRepair' : 'Diagnostics';
    const commands = [
      ...[...role.visibleCmdlets, ...role.visibleFunctions].map((c) => ({
        name: c.name,
        listed: (c.parameters ?? []).map((p) => p.name.toLowerCase()),
      })),
      // Our functions that run the agent have no Windows command behind them: nothing hidden.
      ...role.functionDefinitions
        .filter((f) => !f.agent)
        .map((f) => ({ name: f.name, listed: f.parameters.map((p) => p.name.toLowerCase()) })),
    ];
    for (const { name, listed } of commands) {
      const found = findCommand(inventory, name);
      if (!found) throw new Error(`${name} is not in the Windows Server 2016 inventory`);
      for (const [parameter, p] of Object.entries(found.command.parameters)) {
        if (listed.includes(parameter.toLowerCase()) || ['whatif', 'confirm'].includes(parameter.toLowerCase())) continue;
        const value = sampleValue(p.type);
        for (const spelling of [parameter, ...p.aliases]) {
          const line = `${name} -${spelling}${value === undefined ? '' : ` ${value}`}`;
          cases.push({
            session,
            line,
            refused: HIDDEN_OR_AMBIGUOUS,
            command: name,
            parameter,
            control: 'binds',
            group: 'hidden parameters',
          });
        }
      }
    }
  }
  return cases;
}

/** Every case of the spec; the hidden-parameter ones come from the roles given and the inventory. */
export function proofCases(roles: readonly RoleDefinition[], inventory: Inventory): Expectation[] {
  return [
    ...diagnosticsRuns,
    ...eventLogs,
    ...diagnosticsValues,
    ...diagnosticsCannotChange,
    ...notForAnyone,
    ...noScriptBlocks,
    ...scripts,
    ...logCollection,
    ...repairRuns,
    ...protectedByName,
    ...protectedOtherWays,
    ...protectedByPipeline,
    ...otherServiceDoors,
    ...hiddenParameterCases(roles, inventory),
  ];
}

// ---- judging a report ---------------------------------------------------------------------

export interface CaseResult {
  session: string;
  line: string | null;
  script: string | null;
  ok: boolean;
  errorId: string | null;
  message: string | null;
  output: string[];
  /** The stand-in agent's calls during the case, each its arguments (agent.js first). */
  agentCalls?: string[][];
}

export interface VariantReport {
  sessions: Record<
    string,
    { languageMode: string; visibleCommands: string[]; visibleAfterCases: string[]; providers: Array<{ name: string; visibility: string }> }
  >;
  cases: CaseResult[];
  resolved: Record<string, Array<{ name: string; found: boolean; commandType?: string; module?: string; visibility?: string }>>;
  services: Record<string, string>;
  actions: string[];
}

const shortId = (errorId: string | null): string | null => errorId?.split(',')[0] ?? null;
export const caseText = (e: { line?: string | null; script?: string | null }): string => e.line ?? `script: ${e.script}`;

/** What went against the spec, one line per failure; [] when the variant holds. */
/** Whether the agent calls are the expected ones; undefined when they are. */
function judgeAgentCalls(expected: Expectation['agentCall'], calls: readonly string[][]): string | undefined {
  if (expected === undefined) return undefined;
  if (expected === 'none') return calls.length === 0 ? undefined : `expected no agent call, got ${JSON.stringify(calls)}`;
  const call = calls[0];
  const matches =
    calls.length === 1 &&
    call !== undefined &&
    call.length === expected.length &&
    expected.every((e, i) => (typeof e === 'string' ? call[i] === e : e.test(call[i] ?? '')));
  return matches ? undefined : `expected one agent call ${expected.map(String).join(' ')}, got ${JSON.stringify(calls)}`;
}

export function judgeCase(expectation: Expectation, result: CaseResult | undefined): string | undefined {
  const what = `${expectation.session}: ${caseText(expectation)}`;
  if (!result) return `${what}: no result`;
  const agent = judgeAgentCalls(expectation.agentCall, result.agentCalls ?? []);
  if (agent) return `${what}: ${agent}`;
  const errorId = shortId(result.errorId);
  if (expectation.runs) {
    if (!result.ok) return `${what}: expected to run, refused with ${errorId}: ${result.message}`;
    if (expectation.runs.output && JSON.stringify(result.output) !== JSON.stringify(expectation.runs.output)) {
      return `${what}: expected output ${JSON.stringify(expectation.runs.output)}, got ${JSON.stringify(result.output)}`;
    }
    return undefined;
  }
  if (result.ok)
    return `${what}: expected a refusal (${expectation.refused?.join(' or ')}), it ran: ${JSON.stringify(result.output).slice(0, 200)}`;
  if (!expectation.refused?.includes(errorId ?? ''))
    return `${what}: expected ${expectation.refused?.join(' or ')}, got ${errorId}: ${result.message}`;
  return undefined;
}

export function proofFailures(report: VariantReport, expectations: readonly Expectation[], sessions: readonly Session[]): string[] {
  const failures: string[] = [];
  for (const session of sessions) {
    const s = report.sessions[session];
    if (!s) {
      failures.push(`${session}: no session`);
      continue;
    }
    if (s.languageMode !== 'NoLanguage') failures.push(`${session}: language mode ${s.languageMode}`);
    const publicProviders = s.providers.filter((p) => p.visibility !== 'Private').map((p) => p.name);
    if (publicProviders.length > 0) failures.push(`${session}: providers visible: ${publicProviders.join(', ')}`);
    for (const [when, visible] of [
      ['', s.visibleCommands],
      [' after the cases', s.visibleAfterCases],
    ] as const) {
      const extra = visible.filter((c) => !VISIBLE[session].includes(c));
      const missing = VISIBLE[session].filter((c) => !visible.includes(c));
      if (extra.length > 0) failures.push(`${session}: visible beyond the spec${when}: ${extra.join(', ')}`);
      if (missing.length > 0) failures.push(`${session}: not visible${when}: ${missing.join(', ')}`);
    }
    for (const r of report.resolved[session] ?? []) {
      if (!r.found || r.visibility !== 'Private')
        failures.push(`${session}: ${r.name} does not resolve to a private command (${JSON.stringify(r)})`);
    }
  }
  for (const e of expectations.filter((x) => sessions.includes(x.session))) {
    const result = report.cases.find((c) => c.session === e.session && (e.line !== undefined ? c.line === e.line : c.script === e.script));
    const failure = judgeCase(e, result);
    if (failure) failures.push(failure);
  }
  for (const name of MUST_KEEP_RUNNING) {
    if (report.services[name] !== 'Running') failures.push(`${name} is ${report.services[name] ?? 'missing'} after the sessions`);
  }
  return failures;
}

/** The control session must take what the roles refuse: run it, or at least bind its parameters. */
export function controlFailures(expectations: readonly Expectation[], results: readonly CaseResult[]): string[] {
  const failures: string[] = [];
  for (const e of expectations.filter((x) => x.control !== 'none')) {
    const r = results.find((c) => (e.line !== undefined ? c.line === e.line : c.script === e.script));
    const what = `control: ${caseText(e)}`;
    if (!r) failures.push(`${what}: no result`);
    else if (e.control === 'runs' && !r.ok)
      failures.push(`${what}: the unrestricted command refused it too (${shortId(r.errorId)}: ${r.message})`);
    else if (e.control === 'binds' && ['NamedParameterNotFound', 'CommandNotFoundException'].includes(shortId(r.errorId) ?? '')) {
      failures.push(`${what}: the unrestricted command does not know it (${shortId(r.errorId)}: ${r.message})`);
    }
  }
  return failures;
}
