/**
 * Windows facts checked without Windows (DESIGN section 10): every command and named parameter our
 * node scripts use, every command and parameter a JEA role makes visible, and every parameter a
 * test stand-in declares exists in Windows PowerShell 5.1 on Server 2016, as the inventory in
 * ../shared/specs/windows-powershell-5.1 lists it. A use that only newer versions have passes only
 * behind a capability check in the same script. One pwsh launch parses the repository's files, the
 * built package's and the checker's own samples.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { buildPackage } from '../../scripts/build/package';
import { findPwsh, makeTempDir } from '../support/cms';
import { CommandInventory } from '../support/command-inventory';
import { PowerShellUses, readPowerShellUses } from '../support/powershell-uses';
import {
  AllowedFinding,
  CheckContext,
  Finding,
  applyAllowList,
  checkRoles,
  checkScripts,
  checkStandIns,
  formatFinding,
  standInsOf,
} from '../support/server2016-check';

const REPO = path.resolve(__dirname, '..', '..');

/**
 * Findings that are faults of the inventory (its `gaps`: a page that leaves a real parameter out),
 * not of our scripts, each with its reason. Empty today: every finding so far was ours and fixed.
 */
const INVENTORY_FAULTS: readonly AllowedFinding[] = [];

async function filesUnder(folder: string, pattern: RegExp): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && pattern.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

const SCRIPT = /\.(ps1|psm1)$/i;
const DATA = /\.(psrc|pssc|psd1)$/i;

/** Small scripts that each show one thing the checker must catch or let pass. */
const SAMPLES: Record<string, string> = {
  // Remove-Service came with PowerShell 6.
  'unknown-command.ps1': 'Remove-Service -Name Spooler\n',
  'unknown-parameter.ps1': 'Get-Service -Nmae Spooler\n',
  'bound-as-powershell-does.ps1': [
    'Get-Service -ServiceName Spooler -EA SilentlyContinue', // a parameter alias, a common parameter's alias
    'Get-Service -Na Spooler -DisplayN x', // unambiguous prefixes
    'gsv -Name Spooler', // a command alias
    'Microsoft.PowerShell.Management\\Get-Service -Name Spooler',
    'Unregister-ScheduledTask -TaskName t -Confirm:$false',
    'Where-Object Name -eq x',
    '& $exe --help',
    'azcmagent show -j',
  ].join('\n'),
  'ambiguous-prefix.ps1': 'Get-Service -D Spooler\n',
  'wrong-module.ps1': 'Microsoft.PowerShell.Utility\\Get-Service -Name Spooler\n',
  'whatif-where-none.ps1': 'Get-Service -Name Spooler -WhatIf\n',
  'ps7-parameter-unguarded.ps1': '$o = ConvertFrom-Json -InputObject $t -AsHashtable\n',
  'ps7-parameter-guarded.ps1': [
    "if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('AsHashtable')) { $o = ConvertFrom-Json -InputObject $t -AsHashtable }",
    '$convert = Get-Command -Name ConvertFrom-Json',
    "if ($convert.Parameters.ContainsKey('AsHashtable') -and $t) { $o = ConvertFrom-Json -InputObject $t -AsHashtable }",
  ].join('\n'),
  'ps7-parameter-badly-guarded.ps1': [
    "if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('AsHashtable')) { } else { ConvertFrom-Json -InputObject $t -AsHashtable }",
    "if (-not (Get-Command ConvertFrom-Json).Parameters.ContainsKey('AsHashtable')) { ConvertFrom-Json -InputObject $t -AsHashtable }",
    "if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('AsHashtable') -or $true) { ConvertFrom-Json -InputObject $t -AsHashtable }",
    "if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('Depth')) { ConvertFrom-Json -InputObject $t -AsHashtable }",
    '# A comment does not guard: if (Get-Command ConvertFrom-Json) AsHashtable',
    'ConvertFrom-Json -InputObject $t -AsHashtable',
  ].join('\n'),
  'ps7-command.ps1': [
    'Get-Error -Newest 1',
    'if (Get-Command Get-Error -ErrorAction SilentlyContinue) { Get-Error -Newest 1 }',
    'if (Get-Command Get-Error -ErrorAction SilentlyContinue) { Get-Error -Oldest 1 }',
    'if ($null -ne (Get-Command Get-ServiceStatusReport -ErrorAction SilentlyContinue)) { Get-ServiceStatusReport }',
  ].join('\n'),
  'own-functions.ps1': [
    "function Get-Thing { param([Alias('N')] [string] $Name, [switch] $All) }",
    'function Set-Thing { [CmdletBinding(SupportsShouldProcess = $true)] param([string] $Name) }',
    // Our function shadows the cmdlet of the same name: its own param() block applies.
    'function Get-Service([string] $Pattern) { }',
    'Get-Thing -Name a -N b -Al',
    'Get-Thing -Other c',
    'Get-Thing -ErrorAction Stop',
    'Set-Thing -Name a -ErrorAction Stop -WhatIf',
    'Get-Service -Pattern x',
    'Get-Service -Name x',
  ].join('\n'),
  'splatted.ps1': [
    "$write = @{ LogName = 'Application'; Source = 'x'; EventId = 1 }",
    "$write['Sorce'] = 'y'",
    'Write-EventLog @write -Message m',
    'Get-Service @PSBoundParameters',
    "$more = [ordered]@{ Nmae = 'Spooler' }",
    'Get-Service @more',
  ].join('\n'),
};

const ROLE_SAMPLE = `@{
    ModulesToImport = @('Microsoft.PowerShell.Management', 'NoSuchModule')
    VisibleCmdlets = @(
        'Get-NothingAtAll'
        'Get-Date'
        @{ Name = 'Get-Service'; Parameters = @(@{ Name = 'Nmae' }, @{ Name = 'ServiceName' }, @{ Name = 'DisplayName' }) }
        @{ Name = 'Get-EventLog'; Parameters = @(@{ Name = 'EntryType'; ValidateSet = @('Error', 'Critical') }) }
        'Get-Net*'
        'Get-Nowhere*'
    )
    VisibleFunctions = @('gsv', 'Clear-DnsClientCache', 'Get-OwnThing')
    FunctionDefinitions = @(@{ Name = 'Get-OwnThing'; ScriptBlock = { param([string] $Name) Microsoft.PowerShell.Utility\\Write-Error -Mesage $Name } })
}
`;

const STAND_IN_SAMPLE = `function Read-SampleModel { param($Path) }
function Get-Service { param([Alias('SN')] [string[]] $Name, [Alias('Cn')] [string[]] $ComputerName, [switch] $Bogus) }
function Get-CimInstance { param([string] $Class) }
`;

const CMDLET_SAMPLE = `using System.Management.Automation;
namespace Sample {
    public abstract class Base : PSCmdlet {
        [Parameter] public SwitchParameter Force { get; set; }
    }
    [Cmdlet(VerbsLifecycle.Start, "Service")]
    public class StartServiceSample : Base {
        [Parameter(Position = 0)] [Alias("ServiceName")] public string[] Name { get; set; }
        [Parameter] public string Nickname { get; set; }
    }
}
`;

describe('Windows facts checked against the Server 2016 inventory', () => {
  let work: string;
  let samples: string;
  let nodeScripts: string[];
  let roleFiles: string[];
  /** The role capability files, read as scripts too: the bodies of our own functions run on the node. */
  let roleScripts: string[];
  let standInScripts: string[];
  let standInSources: string[];
  let uses: PowerShellUses;
  let context: CheckContext;

  const byPlace = (a: Finding, b: Finding): number => a.file.localeCompare(b.file) || a.line - b.line;
  let stagingDir: string;
  const displayPath = (file: string): string =>
    file.startsWith(stagingDir) ? `(package)/${path.relative(stagingDir, file)}` : path.relative(REPO, file);
  const show = (findings: readonly Finding[]): string[] => [...findings].sort(byPlace).map((f) => formatFinding(f, displayPath));
  /** A sample's findings as `line command -parameter: problem` (without what Server 2016 offers). */
  const sampleFindings = (name: string): string[] => {
    const file = path.join(samples, name);
    const findings = [
      ...checkScripts(
        uses.scripts.filter((s) => s.file === file),
        context,
      ),
      ...checkRoles(
        uses.roles.filter((r) => r.file === file),
        context,
      ),
      ...(name.startsWith('StandIn.')
        ? checkStandIns(
            standInsOf(
              uses.scripts.filter((s) => s.file === file),
              uses.cmdlets.filter((c) => c.file === file),
              context,
            ),
            context,
          )
        : []),
    ];
    return findings.sort(byPlace).map((f) => `${f.line} ${f.command}${f.parameter !== undefined ? ` -${f.parameter}` : ''}: ${f.problem}`);
  };

  beforeAll(async () => {
    work = await makeTempDir('ars-inventory');
    samples = path.join(work, 'samples');
    await fs.mkdir(samples);
    for (const [name, text] of Object.entries(SAMPLES)) await fs.writeFile(path.join(samples, name), text);
    await fs.writeFile(path.join(samples, 'role.psrc'), ROLE_SAMPLE);
    await fs.writeFile(path.join(samples, 'StandIn.psm1'), STAND_IN_SAMPLE);
    await fs.writeFile(path.join(samples, 'StandIn.cs'), CMDLET_SAMPLE);

    const built = await buildPackage({ outDir: path.join(work, 'dist'), log: () => undefined });
    stagingDir = built.stagingDir;
    nodeScripts = [
      ...(await filesUnder(path.join(REPO, 'windows', 'powershell'), SCRIPT)),
      ...(await filesUnder(path.join(REPO, 'extension', 'powershell'), SCRIPT)),
      ...(await filesUnder(built.stagingDir, SCRIPT)),
    ];
    roleFiles = [
      ...(
        await Promise.all(
          ['jea/generated', 'windows/powershell', 'extension/powershell'].map((folder) => filesUnder(path.join(REPO, folder), DATA)),
        )
      ).flat(),
      ...(await filesUnder(built.stagingDir, DATA)),
    ];
    roleScripts = roleFiles.filter((file) => /\.psrc$/i.test(file));
    standInScripts = [
      path.join(REPO, 'test', 'powershell', 'WindowsStandIn.psm1'),
      ...(await filesUnder(path.join(REPO, 'test', 'support', 'jea'), SCRIPT)),
    ];
    standInSources = await filesUnder(path.join(REPO, 'test', 'support', 'jea'), /\.cs$/i);

    const sampleScripts = [...Object.keys(SAMPLES), 'StandIn.psm1'].map((name) => path.join(samples, name));
    uses = await readPowerShellUses(findPwsh(), {
      scripts: [...nodeScripts, ...roleScripts, ...standInScripts, ...sampleScripts, path.join(samples, 'role.psrc')],
      roles: [...roleFiles, path.join(samples, 'role.psrc')],
      cmdletSources: [...standInSources, path.join(samples, 'StandIn.cs')],
    });
    context = { server2016: CommandInventory.load(2016), newer: [CommandInventory.load(2019)], local: uses.local };
  }, 180_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  const inRepoOrPackage = (files: readonly string[]) => ({
    repo: files.filter((f) => f.startsWith(REPO)).length,
    package: files.filter((f) => f.startsWith(work)).length,
  });

  it('reads the node scripts, role files and stand-ins of the repository and of the package', () => {
    const scripts = inRepoOrPackage(nodeScripts);
    expect(scripts.repo).toBeGreaterThanOrEqual(4);
    expect(scripts.package).toBe(scripts.repo);
    expect(inRepoOrPackage(roleFiles).package).toBe(inRepoOrPackage(roleFiles).repo);
    expect(roleFiles.filter((f) => f.endsWith('.psrc')).length).toBeGreaterThanOrEqual(4);
    expect(standInSources.length + standInScripts.length).toBeGreaterThanOrEqual(2);
    const nodeUses = uses.scripts.filter((s) => nodeScripts.includes(s.file)).flatMap((s) => s.uses);
    expect(nodeUses.length).toBeGreaterThan(100);
    expect(nodeUses.flatMap((u) => u.parameters).length).toBeGreaterThan(100);
  });

  const scriptFindings = (): Finding[] =>
    checkScripts(
      uses.scripts.filter((s) => nodeScripts.includes(s.file)),
      context,
    );
  const roleFindings = (): Finding[] =>
    checkRoles(
      uses.roles.filter((r) => roleFiles.includes(r.file)),
      context,
    );
  const standInFindings = (): Finding[] =>
    checkStandIns(
      standInsOf(
        uses.scripts.filter((s) => standInScripts.includes(s.file)),
        uses.cmdlets.filter((c) => standInSources.includes(c.file)),
        context,
      ),
      context,
    );

  it('every command and named parameter our node scripts use exists on Server 2016, or is checked for first', () => {
    expect(show(applyAllowList(scriptFindings(), INVENTORY_FAULTS).remaining)).toEqual([]);
  });

  it("every command and named parameter the JEA roles' own functions run exists on Server 2016", () => {
    const used = uses.scripts.filter((s) => roleScripts.includes(s.file)).flatMap((s) => s.uses.map((u) => u.command));
    expect(used).toEqual(
      expect.arrayContaining([
        'Microsoft.PowerShell.Diagnostics\\Get-WinEvent',
        'Microsoft.PowerShell.Management\\Convert-Path',
        'Microsoft.PowerShell.Utility\\Write-Error',
        'Microsoft.PowerShell.Utility\\ConvertFrom-Json',
      ]),
    );
    const findings = checkScripts(
      uses.scripts.filter((s) => roleScripts.includes(s.file)),
      context,
    );
    expect(show(applyAllowList(findings, INVENTORY_FAULTS).remaining)).toEqual([]);
  });

  it('every module, command and parameter a JEA role makes visible exists on Server 2016', () => {
    expect(uses.roles.filter((r) => roleFiles.includes(r.file)).flatMap((r) => r.entries).length).toBeGreaterThan(20);
    expect(show(applyAllowList(roleFindings(), INVENTORY_FAULTS).remaining)).toEqual([]);
  });

  it('every parameter a test stand-in declares exists for that command on Server 2016', () => {
    expect(
      standInsOf(
        uses.scripts.filter((s) => standInScripts.includes(s.file)),
        uses.cmdlets.filter((c) => standInSources.includes(c.file)),
        context,
      ).length,
    ).toBeGreaterThan(10);
    expect(show(applyAllowList(standInFindings(), INVENTORY_FAULTS).remaining)).toEqual([]);
  });

  it('excuses only findings that still occur, each with a reason', () => {
    expect(applyAllowList([...scriptFindings(), ...roleFindings(), ...standInFindings()], INVENTORY_FAULTS).unused).toEqual([]);
    for (const entry of INVENTORY_FAULTS) expect(entry.reason.length).toBeGreaterThan(20);
  });

  describe('the checker', () => {
    it('reports a command Server 2016 does not have, with the commands of the same noun', () => {
      expect(sampleFindings('unknown-command.ps1')).toEqual(['1 Remove-Service: no such command']);
      const finding = checkScripts(
        uses.scripts.filter((s) => s.file.endsWith('unknown-command.ps1')),
        context,
      )[0]!;
      expect(formatFinding(finding, (file) => path.relative(samples, file))).toBe(
        'unknown-command.ps1:1 Remove-Service: no such command. Server 2016 offers: no such command; same noun: ' +
          'Get-Service, New-Service, Restart-Service, Resume-Service, Set-Service, Start-Service, Stop-Service, Suspend-Service',
      );
    });

    it('reports a parameter the command does not have, listing the ones it has', () => {
      expect(sampleFindings('unknown-parameter.ps1')).toEqual(['1 Get-Service -Nmae: no such parameter']);
      const [finding] = checkScripts(
        uses.scripts.filter((s) => s.file.endsWith('unknown-parameter.ps1')),
        context,
      );
      expect(finding!.offers).toContain('-Name -ComputerName -DependentServices');
    });

    it('binds names as PowerShell does: aliases, unique prefixes, common parameters, module-qualified names, native programs', () => {
      expect(sampleFindings('bound-as-powershell-does.ps1')).toEqual([]);
      expect(sampleFindings('ambiguous-prefix.ps1')).toEqual([
        '1 Get-Service -D: ambiguous parameter prefix: it matches -DependentServices, -DisplayName, -Debug',
      ]);
      expect(sampleFindings('wrong-module.ps1')).toEqual(['1 Microsoft.PowerShell.Utility\\Get-Service: no such command in that module']);
      expect(sampleFindings('whatif-where-none.ps1')).toEqual(['1 Get-Service -WhatIf: no such parameter']);
    });

    it('refuses a PowerShell 7-only parameter without a capability check, and accepts it inside one', () => {
      expect(sampleFindings('ps7-parameter-unguarded.ps1')).toEqual([
        "1 ConvertFrom-Json -AsHashtable: parameter only in newer versions, used without a capability check: wrap it in if ((Get-Command ConvertFrom-Json).Parameters.ContainsKey('AsHashtable'))",
      ]);
      expect(sampleFindings('ps7-parameter-guarded.ps1')).toEqual([]);
    });

    it('does not take an else branch, a negated or -or condition, another parameter or a comment for a capability check', () => {
      expect(sampleFindings('ps7-parameter-badly-guarded.ps1').map((f) => f.split(':')[0])).toEqual([
        '1 ConvertFrom-Json -AsHashtable',
        '2 ConvertFrom-Json -AsHashtable',
        '3 ConvertFrom-Json -AsHashtable',
        '4 ConvertFrom-Json -AsHashtable',
        '6 ConvertFrom-Json -AsHashtable',
      ]);
    });

    it('refuses a PowerShell 7-only command unless checked for, and still checks its parameters', () => {
      expect(sampleFindings('ps7-command.ps1')).toEqual([
        '1 Get-Error: command only in newer versions, used without a capability check: wrap it in if (Get-Command Get-Error -ErrorAction SilentlyContinue)',
        '3 Get-Error -Oldest: no such parameter (not in any version known)',
        '4 Get-ServiceStatusReport: no such command',
      ]);
    });

    it('checks calls to our own functions against their param() blocks', () => {
      expect(sampleFindings('own-functions.ps1')).toEqual([
        '5 Get-Thing -Other: no such parameter (our function, defined at own-functions.ps1:1)',
        '6 Get-Thing -ErrorAction: no such parameter (our function, defined at own-functions.ps1:1)',
        '9 Get-Service -Name: no such parameter (our function, defined at own-functions.ps1:3)',
      ]);
    });

    it('checks the keys of a hashtable splatted into a call', () => {
      expect(sampleFindings('splatted.ps1')).toEqual([
        '2 Write-EventLog -Sorce: no such parameter (a key of the hashtable splatted into the call)',
        '5 Get-Service -Nmae: no such parameter (a key of the hashtable splatted into the call)',
      ]);
    });

    it('reports what a role makes visible that Server 2016 does not have, and what its own functions run; its own function is no finding', () => {
      expect(sampleFindings('role.psrc')).toEqual([
        '2 NoSuchModule: ModulesToImport names no module of Server 2016',
        '4 Get-NothingAtAll: VisibleCmdlets names no command',
        '6 Get-Service -Nmae: the role makes visible a parameter the command does not have',
        '6 Get-Service -ServiceName: an alias of -Name: a role must name the parameter itself',
        '7 Get-EventLog -EntryType: ValidateSet has values the command does not accept: Critical',
        '9 Get-Nowhere*: VisibleCmdlets pattern matches no command',
        '11 gsv: VisibleFunctions names no command',
        '12 Microsoft.PowerShell.Utility\\Write-Error -Mesage: no such parameter',
      ]);
    });

    it('reports stand-in parameters and aliases Server 2016 does not have, in scripts and in C# cmdlets', () => {
      expect(sampleFindings('StandIn.psm1')).toEqual([
        "2 Get-Service -Name: declares alias 'SN', which Server 2016 does not have for this parameter",
        '2 Get-Service -Bogus: the stand-in declares a parameter the command does not have',
        '3 Get-CimInstance -Class: the stand-in declares a parameter the command does not have',
      ]);
      expect(sampleFindings('StandIn.cs')).toEqual([
        '4 Start-Service -Force: the stand-in declares a parameter the command does not have',
        '9 Start-Service -Nickname: the stand-in declares a parameter the command does not have',
      ]);
    });

    it('applies the allow list by file name, command and parameter, and reports entries nothing needs', () => {
      const findings = checkScripts(
        uses.scripts.filter((s) => s.file.endsWith('unknown-parameter.ps1') || s.file.endsWith('unknown-command.ps1')),
        context,
      );
      const entry = { file: 'unknown-parameter.ps1', command: 'Get-Service', parameter: 'Nmae', reason: 'sample' };
      const stale = { file: 'unknown-parameter.ps1', command: 'Get-Service', parameter: 'Name', reason: 'sample' };
      const { remaining, unused } = applyAllowList(findings, [entry, stale]);
      expect(remaining.map((f) => f.command)).toEqual(['Remove-Service']);
      expect(unused).toEqual([stale]);
    });
  });
});
