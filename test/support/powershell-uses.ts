/**
 * What our PowerShell uses and declares, read with the real PowerShell parser by
 * test/support/Read-PowerShellUses.ps1 (one pwsh launch for all files, JSON out).
 */
import execa from 'execa';
import path from 'path';

export interface DeclaredParameter {
  name: string;
  aliases: string[];
  line?: number;
}

export interface FunctionDeclaration {
  name: string;
  line: number;
  /** [CmdletBinding()] or a [Parameter()] attribute: the common parameters exist. */
  advanced: boolean;
  shouldProcess: boolean;
  dynamicParameters: boolean;
  parameters: DeclaredParameter[];
}

/** A capability check around a use: `Get-Command X` (parameter null) or `(Get-Command X).Parameters.ContainsKey('P')`. */
export interface Guard {
  command: string;
  parameter: string | null;
}

export interface CommandUse {
  /** As written; null when the name is computed (`& $exe`). */
  command: string | null;
  /** Ampersand, Dot or Unknown (a plain call). */
  invocation: string;
  line: number;
  /** Named parameters as written, and the keys of hashtable literals splatted into the call. */
  parameters: Array<{ name: string; line: number; splat: boolean }>;
  /** Splatted variables whose keys the script does not spell out (@PSBoundParameters and the like). */
  unresolvedSplats: string[];
  guards: Guard[];
}

export interface ScriptReport {
  file: string;
  parseErrors: string[];
  functions: FunctionDeclaration[];
  uses: CommandUse[];
}

export interface RoleEntry {
  kind: 'VisibleCmdlets' | 'VisibleFunctions';
  command: string;
  line: number;
  /** null for a plain name (every parameter visible). */
  parameters: Array<{ name: string; line: number; validateSet: string[] | null }> | null;
}

export interface RoleReport {
  file: string;
  parseErrors: string[];
  modulesToImport: Array<{ name: string; line: number }>;
  entries: RoleEntry[];
  /** The functions the file defines itself (FunctionDefinitions): JEA shows these, not a Windows command. */
  ownFunctions: string[];
}

export interface CmdletSourceReport {
  file: string;
  command: string;
  className: string;
  line: number;
  /** Declared in the class or inherited from a class of the same sources. */
  parameters: DeclaredParameter[];
}

export interface PowerShellUses {
  scripts: ScriptReport[];
  roles: RoleReport[];
  cmdlets: CmdletSourceReport[];
  /** Parameters the running (newer) pwsh has for the commands the scripts call, by name as written. */
  local: Record<string, DeclaredParameter[]>;
}

export interface PowerShellFiles {
  /** .ps1 and .psm1 files. */
  scripts: string[];
  /** .psrc and .pssc files. */
  roles: string[];
  /** C# sources of [Cmdlet] classes. */
  cmdletSources: string[];
}

const READER = path.join(__dirname, 'Read-PowerShellUses.ps1');

/** ConvertTo-Json writes an empty array as null in places, and one-element arrays stay arrays (-InputObject). */
function list<T>(value: T[] | null | undefined): T[] {
  return value ?? [];
}

export async function readPowerShellUses(pwsh: string, files: PowerShellFiles): Promise<PowerShellUses> {
  const { stdout } = await execa(pwsh, ['-NoProfile', '-NonInteractive', '-File', READER], {
    input: JSON.stringify(files),
    env: { POWERSHELL_TELEMETRY_OPTOUT: '1' },
  });
  const raw = JSON.parse(stdout) as PowerShellUses;
  return {
    scripts: list(raw.scripts).map((s) => ({
      ...s,
      parseErrors: list(s.parseErrors),
      functions: list(s.functions).map((f) => ({ ...f, parameters: list(f.parameters).map((p) => ({ ...p, aliases: list(p.aliases) })) })),
      uses: list(s.uses).map((u) => ({
        ...u,
        parameters: list(u.parameters),
        unresolvedSplats: list(u.unresolvedSplats),
        guards: list(u.guards),
      })),
    })),
    roles: list(raw.roles).map((r) => ({
      ...r,
      parseErrors: list(r.parseErrors),
      modulesToImport: list(r.modulesToImport),
      entries: list(r.entries),
      ownFunctions: list(r.ownFunctions),
    })),
    cmdlets: list(raw.cmdlets).map((c) => ({ ...c, parameters: list(c.parameters).map((p) => ({ ...p, aliases: list(p.aliases) })) })),
    local: raw.local ?? {},
  };
}
