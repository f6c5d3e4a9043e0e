/**
 * Every PowerShell file in the repository and in the built package parses with zero errors in the
 * real PowerShell parser, uses no syntax Windows PowerShell 5.1 lacks, and every data file
 * (.psd1, .psrc, .pssc) loads as a restricted-language data file.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { buildPackage } from '../../scripts/build/package';
import { findPwsh, makeTempDir } from '../support/cms';
import { parsePowerShellFiles } from '../support/powershell-parse';

const REPO = path.resolve(__dirname, '..', '..');
const POWERSHELL_FILE = /\.(ps1|psm1|psd1|psrc|pssc)$/i;
const DATA_FILE = /\.(psd1|psrc|pssc)$/i;

async function filesUnder(folder: string): Promise<string[]> {
  const entries = await fs.readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && POWERSHELL_FILE.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** PowerShell 7 syntax found by walking the AST: the node types and flags 5.1 does not know. */
const AST_CHECK = `
$ErrorActionPreference = 'Stop'
$files = @(ConvertFrom-Json -InputObject ([Console]::In.ReadToEnd()))
$found = foreach ($file in $files) {
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref] $null, [ref] $null)
    $hits = $ast.FindAll({
        param($node)
        $type = $node.GetType().Name
        ($type -eq 'TernaryExpressionAst') -or ($type -eq 'PipelineChainAst') -or
        ($node -is [System.Management.Automation.Language.PipelineAst] -and $node.Background) -or
        ($node -is [System.Management.Automation.Language.ScriptBlockAst] -and $null -ne $node.CleanBlock)
    }, $true)
    foreach ($hit in $hits) { '{0}:{1} {2}' -f $file, $hit.Extent.StartLineNumber, $hit.GetType().Name }
}
ConvertTo-Json -InputObject @($found) -Compress
`;

const DATA_CHECK = `
$files = @(ConvertFrom-Json -InputObject ([Console]::In.ReadToEnd()))
$problems = foreach ($file in $files) {
    try { $null = Import-PowerShellDataFile -Path $file } catch { '{0}: {1}' -f $file, $_.Exception.Message }
}
ConvertTo-Json -InputObject @($problems) -Compress
`;

describe('every PowerShell file', () => {
  let files: string[];
  let work: string;

  beforeAll(async () => {
    work = await makeTempDir('ars-parse');
    const built = await buildPackage({ outDir: path.join(work, 'dist'), log: () => undefined });
    const repoFiles = (
      await Promise.all(
        ['windows', 'extension', 'scripts', 'jea', 'test', 'sim'].map((folder) => filesUnder(path.join(REPO, folder)).catch(() => [])),
      )
    ).flat();
    files = [...repoFiles, ...(await filesUnder(built.stagingDir))];
  }, 120_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  it('covers the scripts in the repository and in the package', () => {
    expect(files.some((file) => file.includes(`${path.sep}dist${path.sep}`) || file.startsWith(work))).toBe(true);
    expect(files.filter((file) => file.startsWith(REPO)).length).toBeGreaterThanOrEqual(4);
  });

  it('parses with zero errors and no PowerShell 7-only tokens', async () => {
    const results = await parsePowerShellFiles(findPwsh(), files);
    expect(results.map((result) => result.file).sort()).toEqual([...files].sort());
    expect(results.filter((result) => result.errors.length > 0 || result.ps7Only.length > 0)).toEqual([]);
  });

  it('has no PowerShell 7-only syntax in its syntax tree', async () => {
    const { stdout } = await execa(findPwsh(), ['-NoProfile', '-NonInteractive', '-Command', AST_CHECK], { input: JSON.stringify(files) });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('the checks catch what Windows PowerShell 5.1 cannot run', async () => {
    const sample = path.join(work, 'ps7.ps1');
    await fs.writeFile(sample, '$a = $b ? 1 : 2\n$c = $d ?? 3\nGet-Item x && Get-Item y\nStart-Sleep 1 &\n');
    const [tokens] = await parsePowerShellFiles(findPwsh(), [sample]);
    expect(tokens!.ps7Only.length).toBeGreaterThanOrEqual(3);
    const { stdout } = await execa(findPwsh(), ['-NoProfile', '-NonInteractive', '-Command', AST_CHECK], {
      input: JSON.stringify([sample]),
    });
    expect((JSON.parse(stdout) as string[]).map((hit) => hit.split(' ')[1]).sort()).toEqual([
      'PipelineAst',
      'PipelineChainAst',
      'TernaryExpressionAst',
    ]);
  });

  it('loads every data file as restricted-language data, and would catch one that runs code', async () => {
    const unsafe = path.join(work, 'unsafe.psrc');
    await fs.writeFile(unsafe, '@{ VisibleCmdlets = (Get-Command).Name }\n');
    const dataFiles = [...files.filter((file) => DATA_FILE.test(file)), unsafe];
    const { stdout } = await execa(findPwsh(), ['-NoProfile', '-NonInteractive', '-Command', DATA_CHECK], {
      input: JSON.stringify(dataFiles),
    });
    const problems = JSON.parse(stdout || '[]') as string[];
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('unsafe.psrc');
  });
});
