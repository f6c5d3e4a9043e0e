/**
 * The Windows PowerShell 5.1 parameter inventory of Windows Server 2016
 * (../shared/specs/windows-powershell-5.1/server2016.json; its SOURCE.md describes the format), as
 * the JEA proofs need it: every command of a module with its parameter sets, what is mandatory in
 * which set, aliases, pipeline input, position and type.
 */
import { readFileSync } from 'fs';
import * as path from 'path';

export const SERVER_2016_INVENTORY = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  '..',
  'shared',
  'specs',
  'windows-powershell-5.1',
  'server2016.json',
);

export interface InventoryParameter {
  type: string;
  aliases: string[];
  /** Indexes into parameterSets of the sets where the parameter is mandatory. */
  mandatoryIn: number[];
  pipeline: boolean;
  position?: number;
  values?: string[];
  /** false: documented, in no syntax statement (a provider's dynamic parameter). */
  inSyntax?: boolean;
}

export interface InventoryCommand {
  /** One list of parameter names per syntax statement, in page order. */
  parameterSets: string[][];
  setNames?: string[];
  defaultSet?: number;
  parameters: Record<string, InventoryParameter>;
}

export interface Inventory {
  /** Where each module's reference came from: "PowerShell-Docs" for the core 5.1 modules. */
  source: { moduleSource: Record<string, string> };
  modules: Record<string, Record<string, InventoryCommand>>;
}

let loaded: Inventory | undefined;

export function loadInventory(file: string = SERVER_2016_INVENTORY): Inventory {
  if (file !== SERVER_2016_INVENTORY) return JSON.parse(readFileSync(file, 'utf8')) as Inventory;
  return (loaded ??= JSON.parse(readFileSync(file, 'utf8')) as Inventory);
}

/** The module and entry of a command, by name (any letter case); undefined when Server 2016 has none. */
export function findCommand(inventory: Inventory, name: string): { module: string; name: string; command: InventoryCommand } | undefined {
  const lower = name.toLowerCase();
  for (const [module, commands] of Object.entries(inventory.modules)) {
    for (const [commandName, command] of Object.entries(commands)) {
      if (commandName.toLowerCase() === lower) return { module, name: commandName, command };
    }
  }
  return undefined;
}

/** The parameters a command declares on Windows: WhatIf and Confirm come with ShouldProcess. */
export function declaredParameters(command: InventoryCommand): Array<{ name: string; aliases: string[] }> {
  return Object.entries(command.parameters).map(([name, p]) => ({ name, aliases: p.aliases }));
}
