/**
 * The safety rules: the shipped roles pass, and each rule catches a role that breaks it.
 */
import { PROTECTED_SERVICES, PROTECTED_SERVICE_TABLE } from '../../core/node-layout';
import { CATEGORIES } from '../../diag/sources';
import { FunctionDefinition, RoleDefinition, loadRoles } from '../../jea/role-model';
import { ESCAPE_PROBES, checkRoleSafety, checkRoleSetSafety } from '../../jea/safety';
import {
  acceptedServiceNames,
  caseVariants,
  compileConstraint,
  protectedServiceProbes,
  unprotectedServiceNamePattern,
} from '../../jea/service-names';

const roles = loadRoles();
const repair = roles.find((r) => r.name === 'Repair')!;
const servicePattern = repair.visibleCmdlets.find((c) => c.name === 'Stop-Service')!.parameters![0]!.validatePattern!;
const diagnostics = roles.find((r) => r.name === 'Diagnostics')!;

/** A small safe role to break one rule at a time. */
function role(change: Partial<RoleDefinition> = {}): RoleDefinition {
  return {
    name: 'Sample',
    guid: '00000000-0000-4000-8000-000000000000',
    description: 'sample',
    readOnly: false,
    visibleCmdlets: [
      {
        name: 'Get-Service',
        module: 'Microsoft.PowerShell.Management',
        parameters: [
          { name: 'Name', validatePattern: '[A-Za-z0-9_]+' },
          { name: 'DependentServices', switch: true },
        ],
      },
    ],
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

  it("Diagnostics' log collection takes the categories of diag/sources.ts, and a window: no path, URL or free text", () => {
    const request = diagnostics.functionDefinitions.find((f) => f.name === 'Request-RemoteSupportLogCollection')!;
    expect(request.parameters.map((p) => p.name)).toEqual(['Category', 'Hours', 'From', 'To']);
    expect(request.parameters[0]).toMatchObject({ type: 'string[]', mandatory: true, validateSet: [...CATEGORIES] });
    const history = diagnostics.functionDefinitions.find((f) => f.name === 'Get-RemoteSupportLogCollectionHistory')!;
    expect([history.parameters, history.agent]).toEqual([[], { subcommand: 'history', arguments: ['--json'] }]);
  });

  it('Diagnostics reads events only through our own Get-WinEvent, whose -LogName is mandatory and one of a list without Security', () => {
    expect(diagnostics.visibleCmdlets.concat(diagnostics.visibleFunctions).map((c) => c.name)).not.toContain('Get-WinEvent');
    const own = diagnostics.functionDefinitions.find((f) => f.name === 'Get-WinEvent')!;
    const logName = own.parameters.find((p) => p.name === 'LogName')!;
    expect(logName).toMatchObject({ mandatory: true, type: 'string' });
    expect(logName.validateSet).toEqual(expect.arrayContaining(['Application', 'System']));
    expect(logName.validateSet!.map((l) => l.toLowerCase())).not.toContain('security');
    expect(own.parameters.map((p) => p.name)).not.toEqual(expect.arrayContaining(['FilterXPath']));
    expect(own.calls).toEqual(['Microsoft.PowerShell.Diagnostics\\Get-WinEvent']);
  });

  it('the sample role used below passes too', () => {
    expect(checkRoleSafety(role())).toEqual([]);
  });
});

describe('each rule catches a bad role', () => {
  const name = { name: 'Name', validatePattern: '[A-Za-z0-9]+' };
  const winEvent = (change: Partial<FunctionDefinition> = {}): FunctionDefinition => ({
    name: 'Get-WinEvent',
    calls: ['Microsoft.PowerShell.Diagnostics\\Get-WinEvent'],
    parameters: [{ name: 'LogName', type: 'string', mandatory: true, validateSet: ['System'] }],
    body: 'Microsoft.PowerShell.Diagnostics\\Get-WinEvent -LogName $LogName',
    ...change,
  });
  const cases: Array<[string, Partial<RoleDefinition>]> = [
    ['never-visible', { visibleCmdlets: [{ name: 'Start-Process', parameters: [{ name: 'FilePath' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Invoke-Expression', parameters: [{ name: 'Command' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Receive-Job', parameters: [{ name: 'Id' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Update-FormatData', parameters: [{ name: 'PrependPath' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Add-TypeData', parameters: [{ name: 'TypeName' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Set-Service', parameters: [name] }] }],
    ['never-visible', { visibleFunctions: [{ name: 'Register-ScheduledTask', parameters: [{ name: 'TaskName' }] }] }],
    ['never-visible', { visibleFunctions: [{ name: 'New-ScheduledTask', parameters: [{ name: 'Action' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Add-LocalGroupMember', parameters: [{ name: 'Group' }] }] }],
    ['never-visible', { visibleCmdlets: [{ name: 'Enter-PSSession', parameters: [{ name: 'Name' }] }] }],
    ['never-visible', { visibleExternalCommands: ['C:\\Windows\\System32\\net.exe'] }],
    ['never-visible', { visibleExternalCommands: ['C:\\Windows\\System32\\NET1.EXE'] }],
    ['never-visible', { functionDefinitions: [{ name: 'Invoke-Expression', calls: [], parameters: [], body: '1' }] }],
    ['no-wildcards', { visibleCmdlets: [{ name: 'Get-*' }] }],
    ['no-wildcards', { visibleFunctions: [{ name: 'Get-Net?', parameters: [] }] }],
    ['no-wildcards', { visibleProviders: ['*'] }],
    ['command-names', { visibleCmdlets: [{ name: 'Microsoft.PowerShell.Management\\Get-Service', parameters: [name] }] }],
    ['providers', { visibleProviders: ['FileSystem'] }],
    ['providers', { visibleProviders: ['certificate'] }],
    ['external-commands', { visibleExternalCommands: ['whoami.exe'] }],
    ['external-commands', { visibleExternalCommands: ['\\\\server\\share\\tool.exe'] }],
    ['external-commands', { visibleExternalCommands: ['C:\\Windows\\System32\\..\\Temp\\tool.exe'] }],
    ['function-definitions', { functionDefinitions: [winEvent()], visibleFunctions: [{ name: 'Get-WinEvent', parameters: [] }] }],
    ['function-definitions', { functionDefinitions: [winEvent({ calls: ['Get-WinEvent'] })] }],
    ['function-definitions', { functionDefinitions: [winEvent({ calls: ['Microsoft.PowerShell.Utility\\Invoke-Expression'] })] }],
    [
      'reaching-parameters',
      { visibleCmdlets: [{ name: 'Get-Service', parameters: [name, { name: 'ComputerName', validatePattern: '[a-z]+' }] }] },
    ],
    ['reaching-parameters', { visibleCmdlets: [{ name: 'Get-Process', parameters: [{ name: 'Cn', validatePattern: '[a-z]+' }] }] }],
    ['reaching-parameters', { visibleCmdlets: [{ name: 'Get-WinEvent', parameters: [{ name: 'Path', validatePattern: '[a-z]+' }] }] }],
    [
      'reaching-parameters',
      {
        functionDefinitions: [
          winEvent({
            parameters: [
              { name: 'LogName', type: 'string', mandatory: true, validateSet: ['System'] },
              { name: 'ComputerName', type: 'string', mandatory: false, validatePattern: '[a-z]+' },
            ],
          }),
        ],
      },
    ],
    ['unrestricted-parameters', { visibleCmdlets: [{ name: 'Get-Process' }] }],
    ['unrestricted-parameters', { visibleCmdlets: [{ name: 'Get-Date' }] }],
    // Free text, where -FilterXPath took a <QueryList> naming the Security log.
    [
      'constrained-parameters',
      { visibleCmdlets: [{ name: 'Get-EventLog', parameters: [{ name: 'LogName', validateSet: ['System'] }, { name: 'Source' }] }] },
    ],
    ['constrained-parameters', { functionDefinitions: [winEvent({ parameters: [{ name: 'LogName', type: 'string', mandatory: true }] })] }],
    [
      'constrained-parameters',
      {
        functionDefinitions: [
          winEvent({
            parameters: [
              { name: 'LogName', type: 'string', mandatory: true, validateSet: ['System'] },
              { name: 'XPath', type: 'string', mandatory: false },
            ],
          }),
        ],
      },
    ],
    // A pattern in name only: it lets a path, another machine or a query through.
    ['constrained-parameters', { visibleCmdlets: [{ name: 'Get-Counter', parameters: [{ name: 'Counter', validatePattern: '.+' }] }] }],
    ['constrained-parameters', { visibleCmdlets: [{ name: 'Get-Counter', parameters: [{ name: 'Counter', validatePattern: '\\\\.+' }] }] }],
    [
      'constrained-parameters',
      { visibleCmdlets: [{ name: 'Get-ScheduledTask', parameters: [{ name: 'TaskPath', validatePattern: '[^"]+' }] }] },
    ],
    [
      'constrained-parameters',
      { visibleCmdlets: [{ name: 'Get-Service', parameters: [{ name: 'Name', validatePattern: '(?i)[a-z]+' }] }] },
    ],
    // InputObject is free only where a command merely shapes the pipeline's objects.
    ['constrained-parameters', { visibleCmdlets: [{ name: 'Get-Service', parameters: [{ name: 'InputObject' }] }] }],
    ['mandatory-selectors', { visibleCmdlets: [{ name: 'Get-WinEvent', parameters: [{ name: 'LogName', validateSet: ['System'] }] }] }],
    [
      'mandatory-selectors',
      { functionDefinitions: [winEvent({ parameters: [{ name: 'LogName', type: 'string', mandatory: false, validateSet: ['System'] }] })] },
    ],
    [
      'read-only',
      { readOnly: true, visibleCmdlets: [{ name: 'Restart-Service', parameters: [{ name: 'Name', validatePattern: servicePattern }] }] },
    ],
    [
      'read-only',
      {
        readOnly: true,
        functionDefinitions: [
          winEvent({ calls: ['Microsoft.PowerShell.Diagnostics\\Get-WinEvent', 'Microsoft.PowerShell.Management\\Stop-Service'] }),
        ],
      },
    ],
    ['service-control', { visibleCmdlets: [{ name: 'Stop-Service' }] }],
    [
      'service-control',
      {
        visibleCmdlets: [
          {
            name: 'Stop-Service',
            parameters: [
              { name: 'Name', validatePattern: servicePattern },
              { name: 'Force', switch: true },
            ],
          },
        ],
      },
    ],
    ['service-control', { visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name' }] }] }],
  ];

  it.each(cases)('%s: %j', (rule, change) => {
    expect(rulesHit(role(change))).toContain(rule);
  });

  describe('agent-calls: a read-only role runs the node agent only through an allowed subcommand, flags and validated values', () => {
    const request = diagnostics.functionDefinitions.find((f) => f.name === 'Request-RemoteSupportLogCollection')!;
    const withRequest = (change: Partial<FunctionDefinition>) => role({ readOnly: true, functionDefinitions: [{ ...request, ...change }] });
    const problems = (change: Partial<FunctionDefinition>) =>
      checkRoleSafety(withRequest(change)).filter((p) => p.includes('agent-calls:'));

    it('the shipped function passes in a read-only role, and its agent call is the one allowed', () => {
      expect(request.agent).toEqual({
        subcommand: 'request-log-collection',
        arguments: ['--from', '--to', '--category', '--requested-by'],
      });
      expect(checkRoleSafety(withRequest({}))).toEqual([]);
    });

    it('refuses another agent command, or one that takes a flag it may not pass', () => {
      expect(problems({ agent: { subcommand: 'revoke', arguments: [] } })).toEqual([
        "Sample: agent-calls: Request-RemoteSupportLogCollection runs the agent's 'revoke', which no role may run (allowed: request-log-collection, history)",
      ]);
      expect(problems({ agent: { subcommand: 'request-log-collection', arguments: ['--from', '--to', '--category', '--sas'] } })).toEqual([
        "Sample: agent-calls: Request-RemoteSupportLogCollection passes --sas to 'request-log-collection', which takes only --from, --to, --category, --requested-by",
      ]);
    });

    it('refuses a free-text parameter, or a value for a flag the body never sets', () => {
      const freeText = [...request.parameters.filter((p) => p.name !== 'To'), { name: 'To', type: 'string' as const, mandatory: false }];
      expect(problems({ parameters: freeText })).toEqual([
        'Sample: agent-calls: Request-RemoteSupportLogCollection -To takes free text, and the function runs the agent; give it a validateSet or validatePattern',
      ]);
      expect(rulesHit(withRequest({ parameters: freeText }))).toContain('constrained-parameters');
      expect(problems({ body: request.body.replace(/\$agentTo = .*\n/, '') })).toEqual([
        'Sample: agent-calls: Request-RemoteSupportLogCollection passes --to but its body never sets $agentTo',
      ]);
    });

    it('refuses a body that calls anything else: a program, the call operator, or the connected user set by hand', () => {
      expect(problems({ body: `${request.body}\n& $agentNode $agentScript revoke` })).toEqual([
        "Sample: agent-calls: Request-RemoteSupportLogCollection's statements hold '&': a function runs programs only through agent:",
      ]);
      expect(problems({ body: `${request.body}\ncmd.exe /c whoami` })).toEqual([
        "Sample: agent-calls: Request-RemoteSupportLogCollection's statements name the program cmd.exe: a function runs programs only through agent:",
      ]);
      expect(problems({ answer: `${request.answer}\n$agentRequestedBy = 'someone else'` })).toEqual([
        "Sample: agent-calls: Request-RemoteSupportLogCollection's statements touch $agentRequestedBy: only the generated call sets it, from the connected user",
      ]);
      // A function without agent: runs no program either.
      expect(rulesHit(role({ functionDefinitions: [winEvent({ body: '& C:\\Windows\\System32\\whoami.exe' })] }))).toContain('agent-calls');
    });

    it('a read-only role may show the function only because of its agent command: not another verb, not a changing call', () => {
      const renamed = withRequest({ name: 'Set-RemoteSupportThing', agent: undefined, answer: undefined });
      expect(checkRoleSafety(renamed)).toEqual(
        expect.arrayContaining(['Sample: read-only: Set-RemoteSupportThing is not a read-only command']),
      );
      expect(checkRoleSafety(withRequest({ calls: ['Microsoft.PowerShell.Management\\Stop-Service'] }))).toEqual(
        expect.arrayContaining([
          'Sample: read-only: Request-RemoteSupportLogCollection calls Microsoft.PowerShell.Management\\Stop-Service, which is not a read-only command',
        ]),
      );
    });
  });

  it('merge: a command visible in two roles (JEA would loosen its restrictions)', () => {
    const loose = role({
      name: 'Loose',
      visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name', validatePattern: '.+' }] }],
    });
    const problems = checkRoleSetSafety([...roles, loose]);
    expect(problems.some((p) => p.includes('merge: Stop-Service is also visible in Repair'))).toBe(true);
  });

  it('a read-only role may not run programs, and its own functions call only read-only commands', () => {
    const problems = checkRoleSafety(role({ readOnly: true, visibleExternalCommands: ['C:\\Windows\\System32\\whoami.exe'] }));
    expect(problems.filter((p) => p.includes('read-only:'))).toHaveLength(1);
    expect(checkRoleSafety(role({ readOnly: true, functionDefinitions: [winEvent()] }))).toEqual([]);
  });

  it('a function of our own with constrained parameters and module-qualified calls passes', () => {
    expect(
      checkRoleSafety(
        role({
          functionDefinitions: [
            winEvent({
              parameters: [
                { name: 'LogName', type: 'string', mandatory: true, validateSet: ['System'] },
                { name: 'Oldest', type: 'switch', mandatory: false, switch: true },
              ],
            }),
          ],
        }),
      ),
    ).toEqual([]);
  });

  it('names what is wrong and how to fix it', () => {
    const [problem] = checkRoleSafety(
      role({ visibleCmdlets: [{ name: 'Get-EventLog', parameters: [{ name: 'LogName', validateSet: ['System'] }, { name: 'Source' }] }] }),
    );
    expect(problem).toBe(
      'Sample: constrained-parameters: Get-EventLog -Source takes any value; give it a validateSet or validatePattern, mark it switch: true if it takes none, or leave it out',
    );
    const escapes = checkRoleSafety(
      role({ visibleCmdlets: [{ name: 'Get-Counter', parameters: [{ name: 'Counter', validatePattern: '.+' }] }] }),
    );
    expect(escapes.join('\n')).toContain('Get-Counter -Counter accepts "\\\\\\\\otherhost\\\\c$\\\\Windows"');
  });

  it('every escape probe reaches outside: another machine, a file, a structured query, a second line', () => {
    expect(ESCAPE_PROBES.some((p) => p.startsWith('\\\\'))).toBe(true);
    expect(ESCAPE_PROBES.some((p) => p.includes('<QueryList>'))).toBe(true);
    expect(ESCAPE_PROBES.some((p) => p.includes("</Select><Select Path='Security'>"))).toBe(true);
    expect(ESCAPE_PROBES.some((p) => /^[A-Za-z]:\\/.test(p))).toBe(true);
    expect(ESCAPE_PROBES.some((p) => p.includes('\n'))).toBe(true);
  });
});

describe('the service-name constraint is checked by testing it', () => {
  const stop = (validatePattern: string) =>
    role({ visibleCmdlets: [{ name: 'Stop-Service', parameters: [{ name: 'Name', validatePattern }] }] });
  const serviceProblems = (r: RoleDefinition) => checkRoleSafety(r).filter((p) => p.includes('service-control'));

  it('probes every letter case of every protected service', () => {
    expect(caseVariants('WinRM')).toHaveLength(32);
    const probes = new Set(protectedServiceProbes());
    const missing = (wanted: string[]) => wanted.filter((p) => !probes.has(p));
    for (const name of PROTECTED_SERVICES) {
      expect(missing([name, name.toLowerCase(), name.toUpperCase(), `${name}*`, ...caseVariants(name)])).toEqual([]);
    }
    expect(missing(['gcaRCsERVICE', 'eXTENSIONsERVICE', 'eVENTlOG', 'sYSMON64', 'Windows Remote Management (WS-Management)', '*'])).toEqual(
      [],
    );
  });

  it('the shipped pattern refuses all of them, with and without case folding, and accepts ordinary services', () => {
    expect(acceptedServiceNames({ name: 'Name', validatePattern: servicePattern })).toEqual([]);
    const accepts = compileConstraint({ name: 'Name', validatePattern: servicePattern })!;
    for (const ordinary of [
      'Spooler',
      'W32Time',
      'Dnscache',
      'wuauserv',
      'MSSQL$SQLEXPRESS',
      'CDPUserSvc_1a2b3c',
      'WinRMx',
      'xWinRM',
      'Schedules',
    ]) {
      expect([ordinary, accepts(ordinary, true), accepts(ordinary, false)]).toEqual([ordinary, true, true]);
    }
  });

  it('protects the services that keep the node reachable, connected, audited and protected', () => {
    expect(PROTECTED_SERVICES).toEqual(
      expect.arrayContaining([
        'WinRM',
        'Schedule',
        'himds',
        'GCArcService',
        'ExtensionService',
        'ArcProxy',
        'EventLog',
        'MpsSvc',
        'BFE',
        'WinDefend',
        'Sense',
        'WdNisSvc',
        'Sysmon',
        'Sysmon64',
      ]),
    );
    expect(new Set(PROTECTED_SERVICES.map((n) => n.toLowerCase())).size).toBe(PROTECTED_SERVICES.length);
  });

  it('Repair uses the pattern made from that one list, on every service verb', () => {
    for (const verb of ['Start-Service', 'Stop-Service', 'Restart-Service']) {
      expect(repair.visibleCmdlets.find((c) => c.name === verb)!.parameters).toEqual([
        { name: 'Name', refusesProtectedServices: true, validatePattern: unprotectedServiceNamePattern() },
      ]);
    }
    const probes = new Set(protectedServiceProbes());
    expect(PROTECTED_SERVICE_TABLE.flatMap((s) => s.displayNames).filter((d) => !probes.has(d))).toEqual([]);
  });

  it('catches a list with one service left out, in every spelling of it', () => {
    const widened = unprotectedServiceNamePattern(PROTECTED_SERVICES.filter((n) => n !== 'EventLog'));
    expect(serviceProblems(stop(widened)).join('\n')).toMatch(/accepts 'eventlog'/);
    expect(acceptedServiceNames({ name: 'Name', validatePattern: widened })).toEqual(caseVariants('EventLog'));
  });

  it('catches a pattern that only refuses one spelling', () => {
    const problems = serviceProblems(stop('(?!WinRM$|Schedule$|himds$|GCArcService$|ExtensionService$|ArcProxy$)[A-Za-z0-9]+'));
    // Case-insensitively it refuses them, but as written (the culture-proof reading) winrm gets through.
    expect(problems.join('\n')).toMatch(/accepts 'winrm'/);
  });

  it('catches a pattern that lets wildcards or display names through', () => {
    expect(serviceProblems(stop('(?![Ww][Ii][Nn][Rr][Mm]$)[A-Za-z0-9*]+')).join('\n')).toMatch(/accepts/);
    expect(acceptedServiceNames({ name: 'Name', validatePattern: '(?![Ww][Ii][Nn][Rr][Mm]$)[A-Za-z0-9*]+' })).toEqual(
      expect.arrayContaining(['WinRM*', '*']),
    );
    const spaces = servicePattern.replace('[A-Za-z0-9_.$@-]+', '[A-Za-z0-9 ()-]+');
    expect(serviceProblems(stop(spaces))).toHaveLength(1);
    expect(acceptedServiceNames({ name: 'Name', validatePattern: spaces })).toEqual(
      expect.arrayContaining(['Windows Remote Management (WS-Management)', 'Task Scheduler', ' WinRM']),
    );
  });

  it('catches a ValidateSet that names a protected service, and a pattern it cannot test', () => {
    const set = role({ visibleCmdlets: [{ name: 'Restart-Service', parameters: [{ name: 'Name', validateSet: ['Spooler', 'winrm'] }] }] });
    expect(serviceProblems(set).join('\n')).toMatch(/accepts 'winrm'/);
    const dotnetOnly = stop('(?i)(?!winrm$).+');
    expect(serviceProblems(dotnetOnly).join('\n')).toMatch(/cannot be tested/);
  });

  it('a ValidateSet of ordinary services passes', () => {
    expect(
      checkRoleSafety(
        role({ visibleCmdlets: [{ name: 'Restart-Service', parameters: [{ name: 'Name', validateSet: ['Spooler', 'W32Time'] }] }] }),
      ),
    ).toEqual([]);
  });
});
