/**
 * The generator: deterministic bytes, the committed jea/generated/ matches the role data, the
 * session configuration says what DESIGN.md section 4 asks, and unsafe or malformed roles stop it.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { PROTECTED_SERVICES, TRANSCRIPT_FOLDER } from '../../core/node-layout';
import { GENERATED_DIR, compareWithFolder, generateJeaFiles, modulesToImport, nodePath, renderFunctionScript } from '../../jea/generate';
import { writeGenerated } from '../../jea/generate-cli';
import { renderDataFile, quote } from '../../jea/psd1';
import { ROLES_DIR, parseRole } from '../../jea/role-model';
import { unprotectedServiceNamePattern } from '../../jea/service-names';
import { accessGroups, generateSessionConfiguration } from '../../jea/session-configuration';
import { makeTempDir } from '../support/cms';

const generated = generateJeaFiles();
const byPath = (relativePath: string): string => generated.files.find((f) => f.relativePath === relativePath)!.content;

describe('generateJeaFiles', () => {
  it('makes the module manifest and one uniquely named role capability per role', () => {
    expect(generated.files.map((f) => f.relativePath)).toEqual([
      'ArcRemoteSupportJea.psd1',
      'RoleCapabilities/ArcRemoteSupportDiagnostics.psrc',
      'RoleCapabilities/ArcRemoteSupportRepair.psrc',
    ]);
    expect(nodePath('RoleCapabilities/ArcRemoteSupportRepair.psrc')).toBe(
      'C:\\Program Files\\WindowsPowerShell\\Modules\\ArcRemoteSupportJea\\RoleCapabilities\\ArcRemoteSupportRepair.psrc',
    );
  });

  it('is byte-identical run after run: CRLF, printable ASCII, no BOM, ending in a newline', () => {
    expect(generateJeaFiles()).toEqual(generated);
    for (const { content } of [...generated.files, { content: generateSessionConfiguration('NODE1') }]) {
      expect(content.charCodeAt(0)).not.toBe(0xfeff);
      expect(content).toMatch(/^[\x20-\x7e\r\n]*$/);
      expect(content.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
      expect(content.endsWith('\r\n')).toBe(true);
    }
  });

  it('matches the committed jea/generated/ (run npx tsx jea/generate-cli.ts after editing jea/roles)', () => {
    expect(compareWithFolder(generated.files, GENERATED_DIR)).toEqual([]);
  });

  it('the check finds changed, missing and extra files, and the CLI repairs them', async () => {
    const dir = await makeTempDir('ars-jea-gen');
    try {
      await fs.cp(GENERATED_DIR, dir, { recursive: true });
      await fs.appendFile(path.join(dir, 'ArcRemoteSupportJea.psd1'), '# edited\r\n');
      await fs.rm(path.join(dir, 'RoleCapabilities', 'ArcRemoteSupportRepair.psrc'));
      await fs.writeFile(path.join(dir, 'RoleCapabilities', 'Old.psrc'), '@{}');
      expect(compareWithFolder(generated.files, dir).sort()).toEqual([
        'changed: ArcRemoteSupportJea.psd1',
        'extra: RoleCapabilities/Old.psrc',
        'missing: RoleCapabilities/ArcRemoteSupportRepair.psrc',
      ]);
      writeGenerated(dir);
      expect(compareWithFolder(generated.files, dir)).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('writes the roles as JEA reads them: restricted commands as Name/Parameters, modules imported', () => {
    const repair = byPath('RoleCapabilities/ArcRemoteSupportRepair.psrc');
    expect(repair).toContain("GUID = '337a0453-d681-4935-b3c4-e1493299930e'");
    expect(repair).toMatch(/Name = 'Stop-Service'\r\n\s+Parameters = @\(\r\n\s+@\{\r\n\s+Name = 'Name'\r\n\s+ValidatePattern = '\(\?!/);
    expect(repair).toMatch(/Name = 'Clear-DnsClientCache'\r\n\s+Parameters = @\(\)/);
    const diagnostics = byPath('RoleCapabilities/ArcRemoteSupportDiagnostics.psrc');
    expect(diagnostics).toMatch(/ModulesToImport = @\(\r\n\s+'CimCmdlets'/);
    expect(diagnostics).not.toContain("'Microsoft.PowerShell.Core'");
    // A switch is listed by name only; our own function is visible by name (JEA rejects a Name-only hashtable).
    expect(diagnostics).toMatch(/Name = 'DependentServices'\r\n\s+\}/);
    expect(diagnostics).toMatch(/VisibleFunctions = @\((\r\n.*)*\r\n\s+'Get-WinEvent'\r\n/);
    expect(diagnostics).toMatch(
      /FunctionDefinitions = @\((\r\n.*)*\r\n\s+Name = 'Get-WinEvent'\r\n\s+ScriptBlock = \{\r\n\s+\[CmdletBinding\(\)\]\r\n\s+param\(/,
    );
    expect(diagnostics).toContain('Microsoft.PowerShell.Diagnostics\\Get-WinEvent @query');
    expect(diagnostics).not.toMatch(/VisibleProviders|VisibleExternalCommands/);
  });

  it('writes a function of our own with the param block made from its role data, patterns anchored as JEA anchors them', () => {
    const script = renderFunctionScript({
      name: 'Get-Thing',
      calls: ['M\\Get-Thing'],
      parameters: [
        { name: 'Name', type: 'string', mandatory: true, validateSet: ["a'b", 'c'] },
        { name: 'Count', type: 'int[]', mandatory: false, validatePattern: '[0-9]{1,3}' },
        { name: 'All', type: 'switch', mandatory: false, switch: true },
      ],
      body: 'M\\Get-Thing -Name $Name\n',
    });
    expect(script).toBe(
      [
        '[CmdletBinding()]',
        'param(',
        '    [Parameter(Mandatory = $true)]',
        "    [ValidateSet('a''b', 'c')]",
        '    [string] $Name,',
        '',
        "    [ValidatePattern('^([0-9]{1,3})$')]",
        '    [int[]] $Count,',
        '',
        '    [switch] $All',
        ')',
        'M\\Get-Thing -Name $Name',
      ].join('\n'),
    );
  });

  it('imports the modules that visible commands come from and that our own functions call', () => {
    const diagnostics = generated.roles.find((r) => r.name === 'Diagnostics')!;
    expect(modulesToImport(diagnostics)).toEqual(expect.arrayContaining(['Microsoft.PowerShell.Diagnostics', 'NetTCPIP', 'CimCmdlets']));
    const onlyAFunction = {
      ...diagnostics,
      visibleCmdlets: [],
      visibleFunctions: [],
      functionDefinitions: diagnostics.functionDefinitions.slice(0, 1),
    };
    expect(modulesToImport(onlyAFunction)).toEqual(['Microsoft.PowerShell.Diagnostics']);
    // A function that runs the agent also needs what the generated call runs (Convert-Path, Write-Error).
    const agentOnly = { ...onlyAFunction, functionDefinitions: diagnostics.functionDefinitions.filter((f) => f.agent) };
    expect(modulesToImport(agentOnly)).toEqual(['Microsoft.PowerShell.Management', 'Microsoft.PowerShell.Utility']);
  });

  it('writes the agent call of a function with agent: the fixed paths, the subcommand and flags as constants, values from locals', () => {
    const script = renderFunctionScript({
      name: 'Request-Thing',
      calls: [],
      parameters: [{ name: 'Hours', type: 'int', mandatory: true, validatePattern: '[1-9]' }],
      body: '$agentFrom = $Hours',
      agent: { subcommand: 'request-log-collection', arguments: ['--from', '--requested-by'] },
      answer: '$agentLines',
    });
    expect(script).toContain(
      "$agentNode = Microsoft.PowerShell.Management\\Convert-Path -LiteralPath 'C:\\Program Files\\ArcRemoteSupport\\node.exe'",
    );
    expect(script).toContain(
      "$agentScript = Microsoft.PowerShell.Management\\Convert-Path -LiteralPath 'C:\\Program Files\\ArcRemoteSupport\\agent.js'",
    );
    expect(script).toContain('if ($null -ne $PSSenderInfo) { $agentRequestedBy = $PSSenderInfo.ConnectedUser }');
    expect(script).toContain(
      "$agentLines = @(foreach ($agentLine in @(& $agentNode $agentScript 'request-log-collection' '--from' $agentFrom '--requested-by' $agentRequestedBy 2>&1)) { [string] $agentLine })",
    );
    // The body first, then the call, then the answer.
    const at = (text: string) => script.indexOf(text);
    expect(at('$agentFrom = $Hours')).toBeLessThan(at('& $agentNode'));
    expect(at('& $agentNode')).toBeLessThan(script.lastIndexOf('$agentLines'));
    expect(script.endsWith('$agentLines')).toBe(true);
    // A switch flag takes no value.
    const history = renderFunctionScript({
      name: 'Get-Thing',
      calls: [],
      parameters: [],
      body: '#',
      agent: { subcommand: 'history', arguments: ['--json'] },
    });
    expect(history).toContain("& $agentNode $agentScript 'history' '--json' 2>&1");
    expect(history).not.toContain('PSSenderInfo');
  });

  it('makes the Repair pattern from the protected-service list', () => {
    const repair = byPath('RoleCapabilities/ArcRemoteSupportRepair.psrc');
    const pattern = unprotectedServiceNamePattern();
    expect(repair.split(quote(pattern)).length - 1).toBe(3);
    for (const name of PROTECTED_SERVICES)
      expect(pattern).toContain([...name].map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toUpperCase()}${ch.toLowerCase()}]` : ch)).join(''));
  });

  it('refuses unsafe roles, and needs both roles', async () => {
    const dir = await makeTempDir('ars-jea-roles');
    try {
      for (const file of ['Diagnostics.yaml', 'Repair.yaml']) await fs.copyFile(path.join(ROLES_DIR, file), path.join(dir, file));
      const repair = await fs.readFile(path.join(dir, 'Repair.yaml'), 'utf8');
      await fs.writeFile(path.join(dir, 'Repair.yaml'), repair.replace('name: Restart-Service', 'name: Invoke-Expression'));
      expect(() => generateJeaFiles(dir)).toThrow(/Unsafe JEA roles:\n.*never-visible: Invoke-Expression/);
      await fs.rm(path.join(dir, 'Repair.yaml'));
      expect(() => generateJeaFiles(dir)).toThrow(/No role named Repair/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('role files are read strictly', () => {
  const minimal = 'name: X\nguid: 00000000-0000-4000-8000-000000000000\ndescription: d\n';

  it('reads refuseProtectedServices as the pattern made from the list, and a switch as a switch', () => {
    const role = parseRole(
      `${minimal}visibleCmdlets:\n  - name: Stop-Service\n    parameters:\n      - name: Name\n        refuseProtectedServices: true\n  - name: Get-Service\n    parameters:\n      - name: DependentServices\n        switch: true\n`,
      'X.yaml',
    );
    expect(role.visibleCmdlets.map((c) => c.parameters)).toEqual([
      [{ name: 'Name', refusesProtectedServices: true, validatePattern: unprotectedServiceNamePattern() }],
      [{ name: 'DependentServices', switch: true }],
    ]);
  });

  it('reads a minimal role', () => {
    expect(parseRole(minimal, 'X.yaml')).toMatchObject({ name: 'X', readOnly: false, visibleCmdlets: [], visibleProviders: [] });
  });

  it.each([
    ['an unknown key', `${minimal}visibleCmdlet: []\n`, /unknown key 'visibleCmdlet'/],
    [
      'an unknown parameter key',
      `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters:\n      - name: Name\n        validateset: [a]\n`,
      /unknown key 'validateset'/,
    ],
    [
      'a set and a pattern on one parameter',
      `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters:\n      - name: Name\n        validateSet: [a]\n        validatePattern: b\n`,
      /use one of validateSet, validatePattern, not several/,
    ],
    [
      'a switch with a pattern',
      `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters:\n      - name: All\n        switch: true\n        validatePattern: b\n`,
      /not several/,
    ],
    [
      'switch: false',
      `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters:\n      - name: All\n        switch: false\n`,
      /switch: must be true/,
    ],
    [
      'the protected-service list and a pattern',
      `${minimal}visibleCmdlets:\n  - name: Stop-Service\n    parameters:\n      - name: Name\n        refuseProtectedServices: true\n        validatePattern: '.+'\n`,
      /not several/,
    ],
    [
      'a parameter name that is not a name',
      `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters:\n      - name: "Name; x"\n`,
      /letters and digits/,
    ],
    [
      'a function parameter without a type',
      `${minimal}functionDefinitions:\n  - name: Get-X\n    calls: []\n    body: x\n    parameters:\n      - name: A\n        validateSet: [a]\n`,
      /type: must be one of/,
    ],
    [
      'a switch function parameter with a set',
      `${minimal}functionDefinitions:\n  - name: Get-X\n    body: x\n    parameters:\n      - name: A\n        type: switch\n        validateSet: [a]\n`,
      /a switch takes no value/,
    ],
    ['a function without a body', `${minimal}functionDefinitions:\n  - name: Get-X\n    calls: []\n`, /body: must be a non-empty string/],
    [
      'an unknown function key',
      `${minimal}functionDefinitions:\n  - name: Get-X\n    body: x\n    scriptBlock: y\n`,
      /unknown key 'scriptBlock'/,
    ],
    [
      'an empty set',
      `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters:\n      - name: Name\n        validateSet: []\n`,
      /must not be empty/,
    ],
    ['parameters that are not a list', `${minimal}visibleCmdlets:\n  - name: Get-Service\n    parameters: Name\n`, /must be a list/],
    ['a bad GUID', minimal.replace('00000000-0000-4000-8000-000000000000', 'nope'), /GUID/],
    ['a missing description', 'name: X\nguid: 00000000-0000-4000-8000-000000000000\n', /description/],
  ])('refuses %s', (_what, text, error) => {
    expect(() => parseRole(text, 'X.yaml')).toThrow(error);
  });
});

describe('generateSessionConfiguration', () => {
  const pssc = generateSessionConfiguration('NODE1');

  it('is a RestrictedRemoteServer, NoLanguage endpoint with a virtual account and transcripts', () => {
    expect(pssc).toContain("SchemaVersion = '2.0.0.0'");
    expect(pssc).toContain("SessionType = 'RestrictedRemoteServer'");
    expect(pssc).toContain("LanguageMode = 'NoLanguage'");
    expect(pssc).toContain('RunAsVirtualAccount = $true');
    expect(pssc).toContain(`TranscriptDirectory = '${TRANSCRIPT_FOLDER}'`);
  });

  it('maps the Diagnostics group to Diagnostics, the Repair group to both, and requires one of them', () => {
    expect(accessGroups('NODE1')).toEqual({ diagnostics: 'NODE1\\ArcRemoteSupport Diagnostics', repair: 'NODE1\\ArcRemoteSupport Repair' });
    expect(pssc).toContain(
      [
        '    RoleDefinitions = @{',
        "        'NODE1\\ArcRemoteSupport Diagnostics' = @{",
        '            RoleCapabilities = @(',
        "                'ArcRemoteSupportDiagnostics'",
        '            )',
        '        }',
        "        'NODE1\\ArcRemoteSupport Repair' = @{",
        '            RoleCapabilities = @(',
        "                'ArcRemoteSupportDiagnostics'",
        "                'ArcRemoteSupportRepair'",
        '            )',
        '        }',
        '    }',
      ].join('\r\n'),
    );
    expect(pssc).toContain(
      [
        '    RequiredGroups = @{',
        '        Or = @(',
        "            'NODE1\\ArcRemoteSupport Diagnostics'",
        "            'NODE1\\ArcRemoteSupport Repair'",
        '        )',
        '    }',
      ].join('\r\n'),
    );
  });

  it('depends on the computer name only, and refuses a name that is not a NetBIOS name', () => {
    expect(generateSessionConfiguration('NODE1')).toBe(pssc);
    expect(generateSessionConfiguration('NODE2')).toBe(pssc.replace(/NODE1/g, 'NODE2'));
    for (const bad of ['', 'A'.repeat(16), "NO'DE", 'NODE\\X', 'NODE*', 'NODE 1', 'NÖDE']) {
      expect(() => generateSessionConfiguration(bad)).toThrow(/NetBIOS/);
    }
  });
});

describe('the data file writer', () => {
  it('escapes quotes, sorts keys case-insensitively and refuses what is not printable ASCII', () => {
    expect(quote("it's")).toBe("'it''s'");
    expect(renderDataFile([], { b: 1, A: true, a_: 'x', c: [], d: {} })).toBe(
      "@{\r\n    A = $true\r\n    a_ = 'x'\r\n    b = 1\r\n    c = @()\r\n    d = @{}\r\n}\r\n",
    );
    expect(() => quote('caf\u00e9')).toThrow(/ASCII/);
    expect(() => quote('line\nbreak')).toThrow(/ASCII/);
    expect(() => quote('\u2019')).toThrow(/ASCII/);
  });
});
