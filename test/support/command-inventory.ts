/**
 * The Windows PowerShell 5.1 cmdlet inventory (../shared/specs/windows-powershell-5.1, DESIGN
 * section 10) as lookups: a command by name, alias or module-qualified name, and a parameter as
 * PowerShell binds it (exact name or alias, else an unambiguous prefix).
 */
import { readFileSync } from 'fs';
import path from 'path';

export const INVENTORY_FOLDER = path.resolve(__dirname, '..', '..', '..', 'shared', 'specs', 'windows-powershell-5.1');

export interface Parameter {
  name: string;
  aliases: string[];
  /** The "Accepted values" the reference lists, when it does. */
  values?: string[];
}

export interface Command {
  name: string;
  module: string;
  parameters: Parameter[];
}

/** Parameters every cmdlet and advanced function has in 5.1 (the inventory leaves them out). */
export const COMMON_PARAMETERS: readonly Parameter[] = [
  { name: 'Verbose', aliases: ['vb'] },
  { name: 'Debug', aliases: ['db'] },
  { name: 'ErrorAction', aliases: ['ea'] },
  { name: 'WarningAction', aliases: ['wa'] },
  { name: 'InformationAction', aliases: ['infa'] },
  { name: 'ErrorVariable', aliases: ['ev'] },
  { name: 'WarningVariable', aliases: ['wv'] },
  { name: 'InformationVariable', aliases: ['iv'] },
  { name: 'OutVariable', aliases: ['ov'] },
  { name: 'OutBuffer', aliases: ['ob'] },
  { name: 'PipelineVariable', aliases: ['pv'] },
];

/** The risk-mitigation parameters: only on commands that support ShouldProcess (the inventory lists them there). */
export const SHOULD_PROCESS_PARAMETERS: readonly Parameter[] = [
  { name: 'WhatIf', aliases: ['wi'] },
  { name: 'Confirm', aliases: ['cf'] },
];

/**
 * Built-in aliases of Windows PowerShell 5.1 that the reference pages do not list (the pages'
 * own `commandAliases` give the rest).
 */
export const STANDARD_ALIASES: Readonly<Record<string, string>> = {
  gcm: 'Get-Command',
  icm: 'Invoke-Command',
  h: 'Get-History',
  nmo: 'New-Module',
  rmo: 'Remove-Module',
  sajb: 'Start-Job',
  rmdir: 'Remove-Item',
};

interface InventoryFile {
  modules: Record<
    string,
    Record<
      string,
      {
        commandAliases?: string[];
        parameters: Record<string, { aliases?: string[]; values?: string[] }>;
      }
    >
  >;
  gaps: Array<{ file: string; cmdlet: string; problem: string; source: string }>;
}

export type ParameterMatch =
  { kind: 'match'; parameter: Parameter; exact: boolean } | { kind: 'unknown' } | { kind: 'ambiguous'; candidates: string[] };

/** Binds a parameter name as written the way PowerShell does: exact name or alias first, else a unique prefix. */
export function matchParameter(parameters: readonly Parameter[], written: string): ParameterMatch {
  const lower = written.toLowerCase();
  const exact = parameters.find((p) => p.name.toLowerCase() === lower || p.aliases.some((a) => a.toLowerCase() === lower));
  if (exact) return { kind: 'match', parameter: exact, exact: true };
  const byPrefix = parameters.filter((p) => [p.name, ...p.aliases].some((n) => n.toLowerCase().startsWith(lower)));
  if (byPrefix.length === 1) return { kind: 'match', parameter: byPrefix[0]!, exact: false };
  if (byPrefix.length > 1) return { kind: 'ambiguous', candidates: byPrefix.map((p) => p.name) };
  return { kind: 'unknown' };
}

export class CommandInventory {
  private readonly commands = new Map<string, Command>();
  private readonly aliases = new Map<string, string>();
  private readonly moduleNames = new Map<string, string>();

  constructor(
    readonly label: string,
    file: InventoryFile,
    readonly gaps: InventoryFile['gaps'],
  ) {
    for (const [module, commands] of Object.entries(file.modules)) {
      this.moduleNames.set(module.toLowerCase(), module);
      for (const [name, entry] of Object.entries(commands)) {
        const parameters = Object.entries(entry.parameters).map(([pName, p]) => ({
          name: pName,
          aliases: p.aliases ?? [],
          ...(p.values ? { values: p.values } : {}),
        }));
        this.commands.set(name.toLowerCase(), { name, module, parameters });
        for (const alias of entry.commandAliases ?? []) this.aliases.set(alias.toLowerCase(), name);
      }
    }
    for (const [alias, name] of Object.entries(STANDARD_ALIASES)) {
      if (!this.aliases.has(alias)) this.aliases.set(alias, name);
    }
  }

  /** serverYear: 2016 or 2019. */
  static load(serverYear: 2016 | 2019, folder = INVENTORY_FOLDER): CommandInventory {
    const file = JSON.parse(readFileSync(path.join(folder, `server${serverYear}.json`), 'utf8')) as InventoryFile;
    return new CommandInventory(`Windows Server ${serverYear}`, file, file.gaps);
  }

  /** A module by name, spelled as the inventory spells it. */
  module(name: string): string | undefined {
    return this.moduleNames.get(name.toLowerCase());
  }

  /** The command a name, an alias or `Module\Name` calls; undefined when it does not exist here. */
  command(written: string): Command | undefined {
    const qualified = /^([^\\/]+)\\([^\\/]+)$/.exec(written);
    if (qualified) {
      const found = this.commands.get(qualified[2]!.toLowerCase());
      return found && found.module.toLowerCase() === qualified[1]!.toLowerCase() ? found : undefined;
    }
    const lower = written.toLowerCase();
    const target = this.aliases.get(lower);
    return this.commands.get(target ? target.toLowerCase() : lower);
  }

  /** Commands that match a wildcard pattern (`Get-Net*`). */
  matching(pattern: string): Command[] {
    const regex = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    );
    return [...this.commands.values()].filter((c) => regex.test(c.name));
  }

  /** Commands with the same noun, to say what exists instead. */
  sameNoun(name: string): string[] {
    const noun = name.split('\\').pop()!.split('-').slice(1).join('-').toLowerCase();
    if (noun === '') return [];
    return [...this.commands.values()]
      .filter((c) => c.name.toLowerCase().endsWith(`-${noun}`))
      .map((c) => c.name)
      .sort();
  }

  /** The parameters a call can bind: the command's own and the common ones. */
  bindable(command: Command): Parameter[] {
    return [...command.parameters, ...COMMON_PARAMETERS];
  }
}
