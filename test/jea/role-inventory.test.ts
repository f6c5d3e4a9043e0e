/**
 * The roles against the Windows Server 2016 parameter inventory: each visible command exists in the
 * module the role names, each listed parameter is the command's own name for it (an alias would
 * dodge the safety rules' name checks), and `switch: true` marks exactly the parameters that take no
 * value. Our own functions call commands that exist where their qualified names say.
 */
import { generateJeaFiles } from '../../jea/generate';
import { findCommand, loadInventory } from '../support/jea/inventory';

const inventory = loadInventory();
const roles = generateJeaFiles().roles;
const isSwitch = (type: string) => /(^|\.)SwitchParameter$/.test(type);

describe('the roles name real Windows commands and parameters', () => {
  const commands = roles.flatMap((r) => [...r.visibleCmdlets, ...r.visibleFunctions].map((c) => ({ role: r.name, ...c })));

  it.each(commands.map((c) => [c.role, c.name, c] as const))('%s %s', (_role, _name, command) => {
    const windows = findCommand(inventory, command.name);
    expect(windows && { module: windows.module, name: windows.name }).toEqual({ module: command.module, name: command.name });
    const problems: string[] = [];
    for (const p of command.parameters ?? []) {
      const real = windows!.command.parameters[p.name];
      if (!real) {
        const aliasOf = Object.entries(windows!.command.parameters).find(([, q]) =>
          q.aliases.some((a) => a.toLowerCase() === p.name.toLowerCase()),
        );
        problems.push(aliasOf ? `-${p.name} is an alias of -${aliasOf[0]}; list the parameter by its name` : `-${p.name} does not exist`);
        continue;
      }
      if (isSwitch(real.type) !== (p.switch === true))
        problems.push(`-${p.name} is ${real.type}, listed ${p.switch ? 'as a switch' : 'with a value'}`);
    }
    expect(problems).toEqual([]);
  });

  it('our own functions call commands that exist in the modules their names give', () => {
    const calls = roles.flatMap((r) => r.functionDefinitions.flatMap((f) => f.calls));
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      const [module, name] = call.split('\\');
      expect(findCommand(inventory, name!)?.module).toBe(module);
    }
  });

  it('the check itself: an alias, a missing parameter and a wrong switch are caught', () => {
    const process = findCommand(inventory, 'Get-Process')!.command.parameters;
    expect(process['Name']?.aliases).toContain('ProcessName');
    expect(process['ProcessName']).toBeUndefined();
    expect(isSwitch(process['IncludeUserName']!.type)).toBe(true);
    expect(isSwitch(findCommand(inventory, 'Get-NetAdapter')!.command.parameters['Physical']!.type)).toBe(true);
    expect(isSwitch(process['Id']!.type)).toBe(false);
  });
});
