/**
 * Parses PowerShell files with the real PowerShell parser (one pwsh launch for all of them) and
 * finds syntax that Windows PowerShell 5.1 does not have. pwsh 7 parses `&&`, `??`, `?.` and the
 * ternary `? :` happily, so a parse without errors is not enough: the tokens tell.
 */
import execa from 'execa';

export interface ParsedPowerShellFile {
  file: string;
  /** Parse errors as `line:column message`. */
  errors: string[];
  /** PS7-only tokens as `Kind at line:column`. */
  ps7Only: string[];
}

/** Token kinds that exist only from PowerShell 7 on. */
export const PS7_ONLY_TOKEN_KINDS = [
  'AndAnd',
  'OrOr',
  'QuestionQuestion',
  'QuestionQuestionEquals',
  'QuestionDot',
  'QuestionLBracket',
  'QuestionMark',
] as const;

// Tokens inside expandable strings ("$(a ?? b)") are nested, so the walk descends into them.
const PARSE_SCRIPT = `
$ErrorActionPreference = 'Stop'
$files = @(ConvertFrom-Json -InputObject ([Console]::In.ReadToEnd()))
$kinds = @(ConvertFrom-Json -InputObject $env:ARS_PS7_ONLY_KINDS)
function Find-Ps7Tokens($tokens) {
    foreach ($token in $tokens) {
        if ($kinds -contains [string] $token.Kind) {
            '{0} at {1}:{2}' -f $token.Kind, $token.Extent.StartLineNumber, $token.Extent.StartColumnNumber
        }
        if ($token -is [System.Management.Automation.Language.StringExpandableToken] -and $null -ne $token.NestedTokens) {
            Find-Ps7Tokens $token.NestedTokens
        }
    }
}
$results = foreach ($file in $files) {
    $tokens = $null
    $errors = $null
    $null = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref] $tokens, [ref] $errors)
    [ordered]@{
        file = $file
        errors = @($errors | ForEach-Object { '{0}:{1} {2}' -f $_.Extent.StartLineNumber, $_.Extent.StartColumnNumber, $_.Message })
        ps7Only = @(Find-Ps7Tokens $tokens)
    }
}
ConvertTo-Json -InputObject @($results) -Depth 5 -Compress
`;

export async function parsePowerShellFiles(pwsh: string, files: string[]): Promise<ParsedPowerShellFile[]> {
  if (files.length === 0) return [];
  const { stdout } = await execa(pwsh, ['-NoProfile', '-NonInteractive', '-Command', PARSE_SCRIPT], {
    input: JSON.stringify(files),
    env: { POWERSHELL_TELEMETRY_OPTOUT: '1', ARS_PS7_ONLY_KINDS: JSON.stringify(PS7_ONLY_TOKEN_KINDS) },
  });
  const parsed = JSON.parse(stdout) as Array<{ file: string; errors: string[] | null; ps7Only: string[] | null }>;
  return parsed.map((r) => ({ file: r.file, errors: r.errors ?? [], ps7Only: r.ps7Only ?? [] }));
}
