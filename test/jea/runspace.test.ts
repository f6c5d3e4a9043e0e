/**
 * What each access level can and cannot run, proved with the real PowerShell: the generated module
 * is installed into a temporary module folder, our session configuration is loaded with
 * InitialSessionState.CreateFromSessionConfigurationFile and a role verifier, and command lines
 * are sent into the opened runspace the way a remote client sends them (see
 * test/support/jea/Invoke-JeaProof.ps1 for the Linux stand-ins of the Windows commands).
 *
 * Where this differs from a Windows node: the Windows-only commands are stand-ins; the transcript
 * folder is a temporary folder; RunAsVirtualAccount and RequiredGroups are in the file but are
 * applied by WinRM, not by the InitialSessionState, so they are not exercised here.
 */
import { promises as fs } from 'fs';
import { PROTECTED_SERVICES } from '../../core/node-layout';
import { generateJeaFiles } from '../../jea/generate';
import { protectedServiceProbes } from '../../jea/safety';
import { accessGroups } from '../../jea/session-configuration';
import { findPwsh, makeTempDir } from '../support/cms';
import { CaseResult, ProofCase, ProofReport, runJeaProof } from '../support/jea-proof';

const COMPUTER = 'ARS-TEST-NODE';
const groups = accessGroups(COMPUTER);
const jea = generateJeaFiles();
const role = (name: string) => jea.roles.find((r) => r.name === name)!;
const commandsOf = (name: string) => [...role(name).visibleCmdlets, ...role(name).visibleFunctions].map((c) => c.name);
/** What RestrictedRemoteServer shows everyone. */
const DEFAULT_COMMANDS = ['Clear-Host', 'Exit-PSSession', 'Get-Command', 'Get-FormatData', 'Get-Help', 'Measure-Object', 'Out-Default', 'Select-Object'];
const LEVELS = ['Diagnostics', 'DiagnosticsAndRepair'] as const;
const CONTROL_SERVICES = ['Spooler', 'W32Time', 'MSSQL$SQLEXPRESS'];

const cases: ProofCase[] = [];
const line = (session: string, text: string): string => {
  cases.push({ session, line: text });
  return text;
};
const script = (session: string, text: string): string => {
  cases.push({ session, script: text });
  return text;
};

// Diagnostics only.
const diagnosticsRuns = [
  'Get-Service',
  'Get-Service -Name Spooler',
  'Get-Process -Name pwsh',
  'Get-WinEvent -LogName System -MaxEvents 50',
  'Get-CimInstance -ClassName Win32_OperatingSystem',
  'Get-Counter -Counter "\\Processor(_Total)\\% Processor Time" -MaxSamples 3',
  'Get-NetIPConfiguration -InterfaceIndex 3',
  'Test-NetConnection -ComputerName management.azure.com -Port 443',
  'Get-ScheduledTask -TaskPath \\ArcRemoteSupport\\',
  'Get-Service | Where-Object -Property Status -EQ -Value Running',
  'Get-Service | Sort-Object -Property Name -Descending',
  'Get-Date',
].map((text) => line('Diagnostics', text));
const diagnosticsRefusedParameters = [
  'Get-Service -ComputerName otherhost',
  'Get-WinEvent -LogName Security',
  'Get-WinEvent -LogName System -MaxEvents 100000',
  'Get-WinEvent -Path /etc/passwd',
  'Get-CimInstance -ClassName Win32_UserAccount',
  'Get-CimInstance -Query "SELECT * FROM Win32_Process"',
  'Get-Counter -Counter "\\\\OTHERHOST\\Processor(_Total)\\% Processor Time"',
  'Get-NetIPAddress -CimSession otherhost',
].map((text) => line('Diagnostics', text));
const diagnosticsCannotChange = ['Stop-Service -Name Spooler', 'Restart-Service -Name Spooler', 'Start-Service -Name Spooler', 'Clear-DnsClientCache'].map((text) =>
  line('Diagnostics', text),
);

// Both levels.
const notForAnyone = [
  'Start-Process -FilePath /bin/sh',
  'Invoke-Expression -Command Get-Date',
  'Invoke-Command -ScriptBlock { Get-Date }',
  'Get-Service | ForEach-Object -Process { Stop-Service -Name $_.Name }',
  'Get-ChildItem -Path /',
  'Get-Content -Path /etc/hostname',
  'Get-Item -Path /etc/hostname',
  'Set-Location -Path /',
  'Microsoft.PowerShell.Management\\Get-ChildItem -Path /',
  'Get-PSDrive',
  'Get-PSProvider',
  'ls',
  '/bin/ls /',
  'Receive-Job -Id 1',
  'Add-Type -TypeDefinition x',
];
// A client cannot turn a script block argument into a command; sent as a string (what remoting
// deserializes a script block to), it finds no parameter to bind to.
const noScriptBlocks = ['Where-Object -FilterScript { $true }', "Where-Object -FilterScript '$true'", 'Select-Object -InputObject x -Property @{ Name = "x"; Expression = "[IO.File]::ReadAllText(\'/etc/hostname\')" }'];
const scripts = ['Get-Date', '& { Get-Date }', '[IO.File]::ReadAllText("/etc/hostname")'];
for (const level of LEVELS) {
  for (const text of [...notForAnyone, ...noScriptBlocks]) line(level, text);
  for (const text of scripts) script(level, text);
}

// DiagnosticsAndRepair.
const repairRuns = ['Restart-Service -Name Spooler', 'Stop-Service -Name W32Time', 'Start-Service -Name W32Time', 'Clear-DnsClientCache', 'Register-DnsClient', 'Get-WinEvent -LogName Application -MaxEvents 5'].map(
  (text) => line('DiagnosticsAndRepair', text),
);
const protectedSpellings = PROTECTED_SERVICES.flatMap((name) => [name, name.toLowerCase(), name.toUpperCase()]);
const protectedRefused = ['Stop-Service', 'Restart-Service', 'Start-Service'].flatMap((verb) => protectedSpellings.map((name) => line('DiagnosticsAndRepair', `${verb} -Name ${name}`)));
const otherWaysToWinRM = [
  'Stop-Service -Name Win*',
  'Stop-Service -Name *',
  'Stop-Service -Name W?nRM',
  'Stop-Service -Name "Windows Remote Management (WS-Management)"',
  'Stop-Service -Name "Task Scheduler"',
  'Stop-Service -Name Spooler,WinRM',
  'Stop-Service -ServiceName WinRM',
  'Get-Service -Name WinRM | Stop-Service',
].map((text) => line('DiagnosticsAndRepair', text));
const hiddenServiceParameters = [
  'Stop-Service -Name HTTP -Force',
  'Stop-Service -DisplayName "Windows Remote Management (WS-Management)"',
  'Clear-DnsClientCache -CimSession otherhost',
].map((text) => line('DiagnosticsAndRepair', text));
const qualifiedNames = ['Microsoft.PowerShell.Management\\Stop-Service -Name WinRM', 'ArsWindowsStandIn\\Stop-Service -Name WinRM'].map((text) =>
  line('DiagnosticsAndRepair', text),
);
const dependentsProtect = line('DiagnosticsAndRepair', 'Stop-Service -Name HTTP');

describe('JEA runspaces built from our session configuration (real PowerShell)', () => {
  let work: string;
  let report: ProofReport;
  let elapsedMs = 0;

  const result = (session: string, text: string, asScript = false): CaseResult => {
    const found = report.cases.find((c) => c.session === session && (asScript ? c.script : c.line) === text);
    if (!found) throw new Error(`no result for ${session}: ${text}`);
    return found;
  };
  /** Compact form for readable failures. */
  const outcome = (session: string, text: string, asScript = false) => {
    const r = result(session, text, asScript);
    return { text, ok: r.ok, errorId: r.errorId?.split(',')[0] ?? null };
  };

  beforeAll(async () => {
    work = await makeTempDir('ars-jea-runspace');
    const started = Date.now();
    report = await runJeaProof({
      pwsh: findPwsh(),
      work,
      jea,
      computerName: COMPUTER,
      sessions: [
        { id: 'Diagnostics', groups: [groups.diagnostics] },
        { id: 'DiagnosticsAndRepair', groups: [groups.repair] },
        { id: 'NoGroup', groups: [] },
      ],
      cases,
      probes: [...protectedServiceProbes(), ...CONTROL_SERVICES],
    });
    elapsedMs = Date.now() - started;
  }, 180_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  describe('the harness', () => {
    it('ran every case in one PowerShell process, in reasonable time', () => {
      expect(report.cases).toHaveLength(cases.length);
      expect(elapsedMs).toBeLessThan(120_000);
    });

    it('uses real cmdlets where Linux has them, and the roles name their real modules', () => {
      expect(report.standIns.moduleMismatch).toEqual([]);
      expect(report.standIns.real).toEqual(expect.arrayContaining(['Get-Process', 'Get-Date', 'Where-Object', 'Sort-Object']));
      expect(report.standIns.standIn).toMatchObject({ 'Get-Service': 'ArsWindowsStandIn', 'Stop-Service': 'ArsWindowsStandIn', 'Get-NetIPAddress': 'NetTCPIP' });
    });
  });

  describe('every level', () => {
    it.each([...LEVELS, 'NoGroup'])('%s: NoLanguage, and no provider is visible (so no FileSystem)', (level) => {
      const session = report.sessions[level]!;
      expect(session.languageMode).toBe('NoLanguage');
      expect(session.providers.find((p) => p.name === 'FileSystem')?.visibility).toBe('Private');
      expect(session.providers.filter((p) => p.visibility !== 'Private')).toEqual([]);
    });

    it.each(LEVELS)('%s: cannot start processes, run expressions or script blocks, use jobs or reach files', (level) => {
      for (const text of [...notForAnyone, ...noScriptBlocks]) {
        expect(outcome(level, text)).toMatchObject({ text, ok: false });
      }
      expect(outcome(level, 'Start-Process -FilePath /bin/sh').errorId).toBe('CommandNotFoundException');
      expect(outcome(level, 'Invoke-Expression -Command Get-Date').errorId).toBe('CommandNotFoundException');
      expect(outcome(level, 'Get-ChildItem -Path /').errorId).toBe('CommandNotFoundException');
      expect(outcome(level, 'Microsoft.PowerShell.Management\\Get-ChildItem -Path /').errorId).toBe('CommandNotFoundException');
      expect(outcome(level, 'Where-Object -FilterScript { $true }').errorId).toBe('CantConvertWithScriptBlocks');
      expect(outcome(level, "Where-Object -FilterScript '$true'").errorId).toBe('NamedParameterNotFound');
    });

    it.each(LEVELS)('%s: a script is refused by the session itself (NoLanguage)', (level) => {
      for (const text of scripts) expect(outcome(level, text, true)).toEqual({ text, ok: false, errorId: 'ScriptsNotAllowed' });
    });

    it('a user in neither group gets only the built-in restricted commands (on Windows RequiredGroups refuses the session)', () => {
      expect(report.sessions['NoGroup']!.visibleCommands).toEqual(DEFAULT_COMMANDS);
    });

    it('every session was transcribed', () => {
      expect(report.transcripts.length).toBeGreaterThanOrEqual(3);
      const all = report.transcripts.map((t) => t.text).join('\n');
      expect(all).toContain('Restart-Service');
      expect(all).toContain('Stop-Service');
    });
  });

  describe('Diagnostics', () => {
    it('sees exactly the built-in commands and the Diagnostics role', () => {
      expect(report.sessions['Diagnostics']!.visibleCommands).toEqual([...DEFAULT_COMMANDS, ...commandsOf('Diagnostics')].sort());
    });

    it('runs the read-only commands', () => {
      for (const text of diagnosticsRuns) expect(outcome('Diagnostics', text)).toEqual({ text, ok: true, errorId: null });
      expect(result('Diagnostics', 'Get-Service').output).toEqual(expect.arrayContaining(['WinRM', 'Spooler', 'himds']));
      expect(result('Diagnostics', 'Get-WinEvent -LogName System -MaxEvents 50').output).toEqual(['Get-WinEvent LogName=System;MaxEvents=50']);
    });

    it('cannot pass values or parameters outside the role (other machines, other logs, files, other classes)', () => {
      for (const text of diagnosticsRefusedParameters) {
        expect(['NamedParameterNotFound', 'ParameterArgumentValidationError']).toContain(outcome('Diagnostics', text).errorId);
      }
    });

    it('cannot stop, start or restart a service, or flush DNS', () => {
      for (const text of diagnosticsCannotChange) expect(outcome('Diagnostics', text)).toEqual({ text, ok: false, errorId: 'CommandNotFoundException' });
    });
  });

  describe('DiagnosticsAndRepair', () => {
    it('sees exactly the built-in commands and both roles', () => {
      expect(report.sessions['DiagnosticsAndRepair']!.visibleCommands).toEqual([...DEFAULT_COMMANDS, ...commandsOf('Diagnostics'), ...commandsOf('Repair')].sort());
    });

    it('restarts, stops and starts ordinary services, and repairs the DNS client', () => {
      for (const text of repairRuns) expect(outcome('DiagnosticsAndRepair', text)).toEqual({ text, ok: true, errorId: null });
      expect(report.actions).toEqual(['Restart Spooler', 'Stop W32Time', 'Start W32Time']);
    });

    it('cannot stop, restart or start WinRM, the task scheduler or an Arc service, in any spelling', () => {
      expect(protectedRefused).toHaveLength(PROTECTED_SERVICES.length * 3 * 3);
      for (const text of protectedRefused) expect(outcome('DiagnosticsAndRepair', text)).toEqual({ text, ok: false, errorId: 'ParameterArgumentValidationError' });
    });

    it('cannot reach them by wildcard, display name, alias, pipeline or a list either', () => {
      for (const text of otherWaysToWinRM) expect(outcome('DiagnosticsAndRepair', text)).toEqual({ text, ok: false, errorId: 'ParameterArgumentValidationError' });
    });

    it('has no -Force (so no dependent such as WinRM goes down with HTTP), -DisplayName or -CimSession', () => {
      for (const text of hiddenServiceParameters) expect(outcome('DiagnosticsAndRepair', text)).toEqual({ text, ok: false, errorId: 'NamedParameterNotFound' });
      expect(outcome('DiagnosticsAndRepair', dependentsProtect)).toEqual({ text: dependentsProtect, ok: false, errorId: 'ServiceHasDependentServices' });
    });

    it('cannot reach the unrestricted cmdlet by its module-qualified name', () => {
      for (const text of qualifiedNames) expect(outcome('DiagnosticsAndRepair', text)).toEqual({ text, ok: false, errorId: 'CommandNotFoundException' });
    });

    it('left every protected service running', () => {
      for (const name of [...PROTECTED_SERVICES, 'HTTP']) expect([name, report.services[name]]).toEqual([name, 'Running']);
    });

    it('the deployed pattern, in .NET and under the Turkish culture too, refuses every probe and accepts ordinary services', () => {
      for (const [command, check] of Object.entries(report.patternCheck)) {
        expect(check.probes).toBe(protectedServiceProbes().length + CONTROL_SERVICES.length);
        const accepted = check.accepted.map((a) => a.split('/').slice(2).join('/'));
        expect([command, [...new Set(accepted)].sort()]).toEqual([command, [...CONTROL_SERVICES].sort()]);
        expect(check.accepted.filter((a) => a.startsWith('en-US/IgnoreCase/'))).toHaveLength(CONTROL_SERVICES.length);
      }
      expect(Object.keys(report.patternCheck).sort()).toEqual(['Restart-Service', 'Start-Service', 'Stop-Service']);
    });
  });
});
