/**
 * Every generated data file, read by the real PowerShell: it parses with zero errors and no
 * PowerShell 7-only tokens, loads with Import-PowerShellDataFile (restricted language: data only),
 * and reads back as the values we meant (quoting, patterns, group names). The manifest also passes
 * Test-ModuleManifest.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { generateJeaFiles, renderFunctionScript } from '../../jea/generate';
import { generateSessionConfiguration } from '../../jea/session-configuration';
import { findPwsh, makeTempDir } from '../support/cms';
import { installModule } from '../support/jea-proof';
import { parsePowerShellFiles } from '../support/powershell-parse';

const LOAD = `
$ErrorActionPreference = 'Stop'
$files = @(ConvertFrom-Json -InputObject ([Console]::In.ReadToEnd()))
$loaded = [ordered]@{}
foreach ($file in $files) {
    try {
        $data = Import-PowerShellDataFile -Path $file
        # A script block as its text: what the function runs, and JSON can carry it.
        if ($data.ContainsKey('FunctionDefinitions')) { foreach ($f in @($data.FunctionDefinitions)) { $f.ScriptBlock = $f.ScriptBlock.ToString() } }
        $loaded[[IO.Path]::GetFileName($file)] = $data
    }
    catch { $loaded[[IO.Path]::GetFileName($file)] = 'ERROR: ' + $_.Exception.Message }
}
$manifest = Test-ModuleManifest -Path ($files | Where-Object { $_ -like '*.psd1' })
$loaded['Test-ModuleManifest'] = [ordered]@{ name = $manifest.Name; version = [string] $manifest.Version; guid = [string] $manifest.Guid }
ConvertTo-Json -InputObject $loaded -Depth 12 -Compress
`;

/** JSON from ConvertTo-Json: shapes vary (a one-element array arrives as the element). */
type Loaded = Record<string, any>;

describe('generated data files in the real PowerShell', () => {
  const jea = generateJeaFiles();
  let work: string;
  let files: string[];
  let loaded: Loaded;

  beforeAll(async () => {
    work = await makeTempDir('ars-jea-data');
    const module = await installModule(jea, work);
    const pssc = path.join(work, 'ArcRemoteSupport.pssc');
    await fs.writeFile(pssc, generateSessionConfiguration('NODE1'), 'ascii');
    files = [...jea.files.map((f) => path.join(module, ...f.relativePath.split('/'))), pssc];
    const { stdout } = await execa(findPwsh(), ['-NoProfile', '-NonInteractive', '-Command', LOAD], { input: JSON.stringify(files) });
    loaded = JSON.parse(stdout) as Loaded;
  }, 60_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  it('parse with zero errors and no PowerShell 7-only syntax', async () => {
    const results = await parsePowerShellFiles(findPwsh(), files);
    expect(results).toHaveLength(4);
    expect(results.filter((r) => r.errors.length > 0 || r.ps7Only.length > 0)).toEqual([]);
  });

  it('load with Import-PowerShellDataFile', () => {
    expect(Object.keys(loaded).sort()).toEqual([
      'ArcRemoteSupport.pssc',
      'ArcRemoteSupportDiagnostics.psrc',
      'ArcRemoteSupportJea.psd1',
      'ArcRemoteSupportRepair.psrc',
      'Test-ModuleManifest',
    ]);
    for (const [name, value] of Object.entries(loaded)) expect([name, typeof value]).toEqual([name, 'object']);
  });

  it('the module manifest is a valid module manifest', () => {
    expect(loaded['Test-ModuleManifest']).toEqual({
      name: 'ArcRemoteSupportJea',
      version: '1.0.0',
      guid: '3c3cb7b2-8a01-468d-9308-a61788d42830',
    });
  });

  it('read back as the role data: names, parameters, sets and patterns, unchanged by quoting', () => {
    for (const role of jea.roles) {
      const psrc = loaded[`ArcRemoteSupport${role.name}.psrc`] as Loaded;
      expect(psrc['GUID']).toBe(role.guid);
      const read = [...[psrc['VisibleCmdlets']].flat(), ...[psrc['VisibleFunctions']].flat()].map((entry: Loaded | string) =>
        typeof entry === 'string'
          ? { name: entry }
          : {
              name: entry['Name'],
              parameters: [entry['Parameters'] ?? []].flat().map((p: Loaded) => ({
                name: p['Name'],
                ...(p['ValidateSet'] !== undefined ? { validateSet: [p['ValidateSet']].flat() } : {}),
                ...(p['ValidatePattern'] !== undefined ? { validatePattern: p['ValidatePattern'] } : {}),
              })),
            },
      );
      // A switch needs no constraint, and our own functions are listed by name (their param block holds the constraints).
      const expected = [
        ...[...role.visibleCmdlets, ...role.visibleFunctions].map(({ name, parameters }) =>
          parameters
            ? {
                name,
                parameters: parameters.map((p) => ({
                  name: p.name,
                  ...(p.validateSet ? { validateSet: p.validateSet } : {}),
                  ...(p.validatePattern !== undefined ? { validatePattern: p.validatePattern } : {}),
                })),
              }
            : { name },
        ),
        ...role.functionDefinitions.map(({ name }) => ({ name })),
      ];
      const sort = (list: Array<{ name: string }>) => [...list].sort((a, b) => a.name.localeCompare(b.name));
      expect(sort(read)).toEqual(sort(expected));
    }
  });

  it('our own functions read back as the script the generator wrote: the param block, then the body', () => {
    const lines = (text: string) =>
      text
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '');
    const definitions = jea.roles.flatMap((role) =>
      [(loaded[`ArcRemoteSupport${role.name}.psrc`] as Loaded)['FunctionDefinitions'] ?? []]
        .flat()
        .map((f: Loaded) => ({ name: f['Name'], script: lines(f['ScriptBlock']) })),
    );
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...definitions].sort(byName)).toEqual(
      jea.roles
        .flatMap((r) => r.functionDefinitions)
        .map((f) => ({ name: f.name, script: ['{', ...lines(renderFunctionScript(f)), '}'] }))
        .sort(byName),
    );
    expect(definitions.map((d) => d.name)).toEqual([
      'Get-RemoteSupportLogCollectionHistory',
      'Get-WinEvent',
      'Request-RemoteSupportLogCollection',
    ]);
    expect(definitions.find((d) => d.name === 'Get-WinEvent')!.script.slice(0, 5)).toEqual([
      '{',
      '[CmdletBinding()]',
      'param(',
      '[Parameter(Mandatory = $true)]',
      expect.stringMatching(/^\[ValidateSet\('Application', 'System', /),
    ]);
  });

  it('the session configuration reads back with its groups and roles', () => {
    const pssc = loaded['ArcRemoteSupport.pssc'] as Loaded;
    expect(pssc['RoleDefinitions']).toEqual({
      'NODE1\\ArcRemoteSupport Diagnostics': { RoleCapabilities: ['ArcRemoteSupportDiagnostics'] },
      'NODE1\\ArcRemoteSupport Repair': { RoleCapabilities: ['ArcRemoteSupportDiagnostics', 'ArcRemoteSupportRepair'] },
    });
    expect(pssc['RequiredGroups']).toEqual({ Or: ['NODE1\\ArcRemoteSupport Diagnostics', 'NODE1\\ArcRemoteSupport Repair'] });
    expect(pssc).toMatchObject({
      SessionType: 'RestrictedRemoteServer',
      LanguageMode: 'NoLanguage',
      RunAsVirtualAccount: true,
      SchemaVersion: '2.0.0.0',
    });
  });
});
