/**
 * The safety rules: the shipped roles pass, and each rule catches a role that breaks it.
 */
import { PROTECTED_SERVICES } from '../../core/node-layout';
import { RoleDefinition, loadRoles } from '../../jea/role-model';
import {
  acceptedServiceNames, caseVariants, checkRoleSafety, checkRoleSetSafety, compileConstraint, protectedServiceProbes,
} from '../../jea/safety';

const roles = loadRoles();
const repair = roles.find((r) => r.name === 'Repair')!;
const servicePattern = repair.visibleCmdlets.find((c) => c.name === 'Stop-Service')!.parameters![0]!.validatePattern!;

/** A small safe role to break one rule at a time. */
function role(change: Partial<RoleDefinition> = {}): RoleDefinition {
  return {
    name: 'Sample',
    guid: '00000000-0000-4000-8000-000000000000',
    description: 'sample',
    readOnly: false,
    visibleCmdlets: [{ name: 'Get-Service', module: 'Microsoft.PowerShell.Management', parameters: [{ name: 'Name' }] }],
    visibleFunctions: [],
    visibleExternalCommands: [],
    visibleProviders: [],
    functionDefinitions: [],
    ...change,
  };
}

const rulesHit = (r: RoleDefinition): string[] => [...new Set(checkRoleSafety(r).map((p) => p.split(': ')[1] ?? ''))];

describe('the shipped roles', () => {
  it('pass every rule, alone and together', () => {
    expect(roles.map((r) => r.name)).toEqual(['Diagnostics', 'Repair']);
    for (const r of roles) expect(checkRoleSafety(r)).toEqual([]);
    expect(checkRoleSetSafety(roles)).toEqual([]);
  });

  it('the sample role used below passes too', () => {
    expect(checkRoleSafety(role())).toEqual([]);
  });
});

describe('each rule catches a bad role', () => {
  const cases: Array<[string, Partial<RoleDefinition>]> = [
    ['never-visible', { visibleCmdlets: [{ name: 'Start-Process', parameters: [{ name: 'FilePath' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Invoke-Expression', parameters: [{ name: 'Command' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Receive-Job', parameters: [{ name: 'Id' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Update-FormatData', parameters: [{ name: 'PrependPath' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Add-TypeData', parameters: [{ name: 'TypeName' }] }] }],
    ['never-visible', { visibleFunctions: [{ name: 'Register-ScheduledTask', parameters: [{ name: 'TaskName' }] }] }],
    ['never-visible', { visibleFunctions: [{ name: 'New-ScheduledTask', parameters: [{ name: 'Action' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Add-LocalGroupMember', parameters: [{ name: 'Group' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Enter-PSSession', parameters: [{ name: 'Name' }] }] }],
    ['never-visible', { visibleExternalCommands: ['C:\\Windows\\System32\\net.exe'] }],
    ['never-visible', { visibleExternalCommands: ['C:\\Windows\\System32\\NET1.EXE'] }],
    ['no-wildcards', { visibleCmdlets: [{ name: 'Get-*' }] }],
    ['no-wildcards', { visibleFunctions: [{ name: 'Get-Net?', parameters: [] }] }],
    ['no-wildcards', { visibleProviders: ['*'] }],
    ['command-names', { visibleCmdlets: [{ name: 'Microsoft.PowerShell.Management\\Get-Service', parameters: [{ name: 'Name' }] }] }],
    ['providers', { visibleProviders: ['FileSystem'] }],
    ['providers', { visibleProviders: ['certificate'] }],
    ['external-commands', { visibleExternalCommands: ['whoami.exe'] }],
    ['external-commands', { visibleExternalCommands: ['\\\\server\\share\\tool.exe'] }],
    ['external-commands', { visibleExternalCommands: ['C:\\Windows\\System32\\..\\Temp\\tool.exe'] }],
    ['function-definitions', { functionDefinitions: [{ name: 'Get-Thing', scriptBlock: 'Get-Date' }] }],
    ['reaching-parameters', { visibleCmdlets: [{ name: 'Get-Service', parameters: [{ name: 'Name' }, { name: 'ComputerName' }] }] }],
    ['reaching-parameters', { visibleCmdlets: [{ name: 'Get-Process', parameters: [{ name: 'Cn' }] }] }],
    ['reaching-parameters', { visibleCmdlets: [{ name: 'Get-WinEvent', parameters: [{ name: 'Path' }] }] }],
    ['unrestricted-parameters', { visibleCmdlets: [{ name: 'Get-Process' }] }],
    ['read-only', { readOnly: true, visibleCmdlets: [{ name: 'Restart-Service', parameters: [{ name: 'Name', validatePattern: servicePattern }] }] }],
    ['service-control', { visibleCmdlets: [{ name: 'Stop-Service' }] }],
    ['service-control', { visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name', validatePattern: servicePattern }, { name: 'Force' }] }] }],
    ['service-control', { visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name' }] }] }],
  ];

  it.each(cases)('%s: %j', (rule, change) => {
    expect(rulesHit(role(change))).toContain(rule);
  });

  it('merge: a command visible in two roles (JEA would loosen its restrictions)', () => {
    const loose = role({ name: 'Loose', visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name', validatePattern: '.+' }] }] });
    const problems = checkRoleSetSafety([...roles, loose]);
    expect(problems.some((p) => p.includes('merge: Stop-Service is also visible in Repair'))).toBe(true);
  });

  it('a read-only role may not define functions or run programs', () => {
    const problems = checkRoleSafety(role({ readOnly: true, visibleExternalCommands: ['C:\\Windows\\System32\\whoami.exe'], functionDefinitions: [{ name: 'Get-X', scriptBlock: 'Get-Date' }], visibleFunctions: [{ name: 'Get-X' }] }));
    expect(problems.filter((p) => p.includes('read-only:'))).toHaveLength(2);
  });

  it('a defined function listed in VisibleFunctions passes', () => {
    expect(checkRoleSafety(role({ functionDefinitions: [{ name: 'Get-Thing', scriptBlock: 'Get-Date' }], visibleFunctions: [{ name: 'Get-Thing' }] }))).toEqual([]);
  });
});

describe('the service-name constraint is checked by testing it', () => {
  const stop = (validatePattern: string) => role({ visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name', validatePattern }] }] });
  const serviceProblems = (r: RoleDefinition) => checkRoleSafety(r).filter((p) => p.includes('service-control'));

  it('probes every letter case of every protected service', () => {
    expect(caseVariants('WinRM')).toHaveLength(32);
    const probes = protectedServiceProbes();
    for (const name of PROTECTED_SERVICES) {
      expect(probes).toEqual(expect.arrayContaining([name, name.toLowerCase(), name.toUpperCase(), `${name}*`]));
    }
    expect(probes).toEqual(expect.arrayContaining(['gcaRCsERVICE', 'eXTENSIONsERVICE', 'Windows Remote Management (WS-Management)', '*']));
  });

  it('the shipped pattern refuses all of them, with and without case folding, and accepts ordinary services', () => {
    expect(acceptedServiceNames({ name: 'Name', validatePattern: servicePattern })).toEqual([]);
    const accepts = compileConstraint({ name: 'Name', validatePattern: servicePattern })!;
    for (const ordinary of ['Spooler', 'W32Time', 'Dnscache', 'wuauserv', 'MSSQL$SQLEXPRESS', 'CDPUserSvc_1a2b3c', 'WinRMx', 'xWinRM', 'Schedules']) {
      expect([ordinary, accepts(ordinary, true), accepts(ordinary, false)]).toEqual([ordinary, true, true]);
    }
  });

  it('catches a pattern that only refuses one spelling', () => {
    const problems = serviceProblems(stop('(?!WinRM$|Schedule$|himds$|GCArcService$|ExtensionService$|ArcProxy$)[A-Za-z0-9]+'));
    // Case-insensitively it refuses them, but as written (the culture-proof reading) winrm gets through.
    expect(problems.join('\n')).toMatch(/accepts 'winrm'/);
  });

  it('catches a pattern that lets wildcards or display names through', () => {
    expect(serviceProblems(stop('(?![Ww][Ii][Nn][Rr][Mm]$)[A-Za-z0-9*]+')).join('\n')).toMatch(/accepts/);
    expect(acceptedServiceNames({ name: 'Name', validatePattern: '(?![Ww][Ii][Nn][Rr][Mm]$)[A-Za-z0-9*]+' })).toEqual(expect.arrayContaining(['WinRM*', '*']));
    const spaces = servicePattern.replace('[A-Za-z0-9_.$@-]+', '[A-Za-z0-9 ()-]+');
    expect(serviceProblems(stop(spaces))).toHaveLength(1);
    expect(acceptedServiceNames({ name: 'Name', validatePattern: spaces })).toEqual(expect.arrayContaining(['Windows Remote Management (WS-Management)', 'Task Scheduler', ' WinRM']));
  });

  it('catches a ValidateSet that names a protected service, and a pattern it cannot test', () => {
    const set = role({ visibleCmdlets: [{ name: 'Restart-Service', parameters: [{ name: 'Name', validateSet: ['Spooler', 'winrm'] }] }] });
    expect(serviceProblems(set).join('\n')).toMatch(/accepts 'winrm'/);
    const dotnetOnly = stop('(?i)(?!winrm$).+');
    expect(serviceProblems(dotnetOnly).join('\n')).toMatch(/cannot be tested/);
  });

  it('a ValidateSet of ordinary services passes', () => {
    expect(checkRoleSafety(role({ visibleCmdlets: [{ name: 'Restart-Service', parameters: [{ name: 'Name', validateSet: ['Spooler', 'W32Time'] }] }] }))).toEqual([]);
  });
});
