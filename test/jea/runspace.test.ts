/**
 * What each access level can and cannot run, proved with the real PowerShell: the generated module
 * is installed into a temporary module folder, our session configuration is loaded with
 * InitialSessionState.CreateFromSessionConfigurationFile and a role verifier, and command lines
 * are sent into the opened runspace the way a remote client sends them. The spec (what must run,
 * what must be refused, what each level sees) is test/support/jea/proofs.ts.
 *
 * The Windows commands are stand-ins generated from the Windows Server 2016 inventory with their
 * real parameters, and every refused line also goes to an unrestricted control session with the
 * same commands, which must take it: so each refusal is the role's doing, not a stand-in's gap.
 *
 * Where this differs from a Windows node: the Windows-only commands echo instead of acting (the
 * service cmdlets work on a fake service table); the transcript folder is a temporary folder;
 * RunAsVirtualAccount and RequiredGroups are in the file but are applied by WinRM, not by the
 * InitialSessionState, so they are not exercised here.
 */
import { promises as fs } from 'fs';
import { PROTECTED_SERVICES } from '../../core/node-layout';
import { generateJeaFiles } from '../../jea/generate';
import { protectedServiceProbes } from '../../jea/service-names';
import { accessGroups } from '../../jea/session-configuration';
import { findPwsh, makeTempDir } from '../support/cms';
import { ProofReport, STAND_IN_COLLECTION_ID, STAND_IN_RUNNING_ID, runJeaProof } from '../support/jea-proof';
import { findCommand, loadInventory } from '../support/jea/inventory';
import {
  CONNECTED_USER,
  Expectation,
  MUST_KEEP_RUNNING,
  ORDINARY_SERVICES,
  QUALIFIED_NAMES,
  REPAIR_ACTIONS,
  SERVICE_TABLE,
  SESSIONS,
  VISIBLE,
  caseText,
  controlFailures,
  judgeCase,
  proofCases,
  proofFailures,
} from '../support/jea/proofs';

const COMPUTER = 'ARS-TEST-NODE';
const groups = accessGroups(COMPUTER);
const jea = generateJeaFiles();
const inventory = loadInventory();
const cases = proofCases(jea.roles, inventory);
const CONTROL_SERVICES = ['Spooler', 'W32Time', 'MSSQL$SQLEXPRESS'];

/**
 * Every visible command of the roles that Windows has (our functions that run the agent are ours
 * alone), and each command the module-qualified names point at.
 */
const visibleCommands = [
  ...new Set(
    jea.roles.flatMap((r) =>
      [...r.visibleCmdlets, ...r.visibleFunctions, ...r.functionDefinitions.filter((f) => !f.agent)].map((c) => c.name),
    ),
  ),
];
const NO_SENDER_LINE = 'Request-RemoteSupportLogCollection -Category EventLogs -Hours 1';
const AGENT_FUNCTIONS = ['Request-RemoteSupportLogCollection', 'Get-RemoteSupportLogCollectionHistory'];
const qualifiedTargets = [
  ...new Set(
    Object.values(QUALIFIED_NAMES)
      .flat()
      .map((n) => n.split('\\')[1]!),
  ),
];

describe('JEA runspaces built from our session configuration (real PowerShell)', () => {
  let work: string;
  let report: ProofReport;
  let elapsedMs = 0;
  const shipped = () => report.variants['shipped']!;
  const failuresOf = (group: string): string[] => {
    const selected = cases.filter((c) => c.group === group);
    expect(selected.length).toBeGreaterThan(0);
    return selected.flatMap(
      (e) =>
        judgeCase(
          e,
          shipped().cases.find((c) => c.session === e.session && (e.line !== undefined ? c.line === e.line : c.script === e.script)),
        ) ?? [],
    );
  };

  beforeAll(async () => {
    work = await makeTempDir('ars-jea-runspace');
    const started = Date.now();
    report = await runJeaProof({
      pwsh: findPwsh(),
      work,
      computerName: COMPUTER,
      variants: [
        {
          id: 'shipped',
          jea,
          sessions: [
            { id: 'Diagnostics', groups: [groups.diagnostics] },
            { id: 'DiagnosticsAndRepair', groups: [groups.repair] },
            { id: 'NoGroup', groups: [] },
          ],
          cases,
          resolve: QUALIFIED_NAMES,
          functions: AGENT_FUNCTIONS,
          probes: [...protectedServiceProbes(), ...CONTROL_SERVICES],
          transcripts: true,
        },
        // A session without a connected user: the function refuses before running the agent.
        {
          id: 'no-sender',
          jea,
          sessions: [{ id: 'Diagnostics', groups: [groups.diagnostics], noSender: true }],
          cases: [{ session: 'Diagnostics', line: NO_SENDER_LINE }],
        },
      ],
      control: cases.filter((c) => c.control !== 'none'),
      describe: [...new Set([...visibleCommands, ...qualifiedTargets])],
      services: SERVICE_TABLE,
      agent: { connectedUser: CONNECTED_USER },
    });
    elapsedMs = Date.now() - started;
  }, 240_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  describe('the harness', () => {
    it('ran every case in one PowerShell process, in reasonable time', () => {
      expect(shipped().cases).toHaveLength(cases.length);
      expect(elapsedMs).toBeLessThan(150_000);
    });

    it('gives each Windows command its real parameters: names, aliases, parameter sets and what is mandatory where', () => {
      const gaps: string[] = [];
      for (const name of [...visibleCommands, ...qualifiedTargets]) {
        const windows = findCommand(inventory, name)!;
        const described = report.described[name];
        if (!described) {
          gaps.push(`${name}: not in the sessions`);
          continue;
        }
        if (described.module !== windows.module) gaps.push(`${name}: module ${described.module}, on Windows ${windows.module}`);
        const source = report.standIns.commands[name]?.source;
        for (const [parameter, p] of Object.entries(windows.command.parameters)) {
          const found = described.parameters[parameter] ?? Object.values(described.parameters).find((d) => d.aliases.includes(parameter));
          if (!found) {
            gaps.push(`${name} -${parameter}: not declared`);
            continue;
          }
          for (const alias of p.aliases)
            if (!found.aliases.some((a) => a.toLowerCase() === alias.toLowerCase())) gaps.push(`${name} -${parameter}: no alias ${alias}`);
          if (source !== 'stand-in' || p.inSyntax === false || ['WhatIf', 'Confirm'].includes(parameter)) continue;
          // A stand-in's sets and mandatory flags are exactly the reference's.
          const expected = windows.command.parameterSets.flatMap((members, i) =>
            members.includes(parameter) ? [`${windows.command.setNames?.[i] ?? `Set${i}`}:${p.mandatoryIn.includes(i)}`] : [],
          );
          const actual = Object.entries(found.sets).map(([set, s]) => `${set}:${s.mandatory}`);
          if (JSON.stringify([...new Set(expected)].sort()) !== JSON.stringify(actual.sort()))
            gaps.push(`${name} -${parameter}: sets ${actual.join(' ')}, on Windows ${expected.join(' ')}`);
        }
      }
      expect(gaps).toEqual([]);
    });

    it('uses stand-ins for the Windows-only commands and for those Linux has with fewer parameters; real ones otherwise', () => {
      const sources = report.standIns.commands;
      expect(sources['Get-Service']).toMatchObject({ module: 'Microsoft.PowerShell.Management', source: 'stand-in', kind: 'cmdlet' });
      expect(sources['Get-WinEvent']).toMatchObject({ module: 'Microsoft.PowerShell.Diagnostics', source: 'stand-in', kind: 'cmdlet' });
      expect(sources['Get-NetIPAddress']).toMatchObject({ module: 'NetTCPIP', source: 'stand-in', kind: 'function' });
      // Linux's Get-Process has no -ComputerName: a refusal of it would prove nothing, so it is replaced.
      expect(sources['Get-Process']).toMatchObject({ source: 'stand-in' });
      for (const name of ['Where-Object', 'Sort-Object', 'Format-Table', 'Get-Date'])
        expect([name, sources[name]?.source]).toEqual([name, 'real']);
      expect(report.standIns.lacking.filter((l) => visibleCommands.includes(l.split(' ')[0]!))).toEqual([]);
    });

    it('every refused line runs, or at least binds, in an unrestricted session with the same commands', () => {
      expect(report.control.length).toBeGreaterThan(400);
      expect(controlFailures(cases, report.control)).toEqual([]);
    });

    it('has a refused value for every constrained parameter of the roles, and a case for every hidden one', () => {
      const attacked = new Set(cases.filter((c) => c.refused).map((c) => `${c.command} -${c.parameter}`.toLowerCase()));
      const constrained = jea.roles.flatMap((r) =>
        [...r.visibleCmdlets, ...r.visibleFunctions, ...r.functionDefinitions].flatMap((c) =>
          (c.parameters ?? []).filter((p) => p.validateSet || p.validatePattern !== undefined).map((p) => `${c.name} -${p.name}`),
        ),
      );
      expect(constrained.filter((p) => !attacked.has(p.toLowerCase()))).toEqual([]);
      expect(cases.filter((c) => c.group === 'hidden parameters').length).toBeGreaterThan(250);
    });
  });

  describe('every level', () => {
    it.each(SESSIONS)(
      '%s: NoLanguage, no provider visible (so no FileSystem), exactly its commands, before and after every case',
      (level) => {
        const session = shipped().sessions[level]!;
        expect(session.languageMode).toBe('NoLanguage');
        expect(session.providers.find((p) => p.name === 'FileSystem')?.visibility).toBe('Private');
        expect(proofFailures(shipped(), [], [level]).filter((f) => f.startsWith(level))).toEqual([]);
        expect(session.visibleAfterCases).toEqual(VISIBLE[level]);
      },
    );

    it('cannot start processes, run expressions, use jobs, reach files or change services, by plain or module-qualified name', () => {
      expect(failuresOf('not for anyone')).toEqual([]);
      expect(failuresOf('module-qualified names')).toEqual([]);
    });

    it('module-qualified names resolve to the real commands, private, as on Windows: refused for that reason', () => {
      for (const level of ['Diagnostics', 'DiagnosticsAndRepair'] as const) {
        expect(shipped().resolved[level]!.map((r) => `${r.name} ${r.commandType} ${r.visibility}`)).toEqual(
          QUALIFIED_NAMES[level].map(
            (n) => `${n} ${report.standIns.commands[n.split('\\')[1]!]?.kind === 'function' ? 'Function' : 'Cmdlet'} Private`,
          ),
        );
      }
    });

    it('no script block, no language', () => {
      expect(failuresOf('no script blocks')).toEqual([]);
      expect(failuresOf('no language')).toEqual([]);
    });

    it('every session was transcribed', () => {
      const transcripts = shipped().transcripts;
      expect(transcripts.length).toBeGreaterThanOrEqual(3);
      const all = transcripts.map((t) => t.text).join('\n');
      expect(all).toContain('Restart-Service');
      expect(all).toContain('Get-WinEvent');
    });
  });

  describe('Diagnostics', () => {
    it('runs the read-only commands; Get-WinEvent builds its own query from validated values', () => {
      expect(failuresOf('runs')).toEqual([]);
      const all = shipped().cases.find((c) => c.session === 'Diagnostics' && c.line === 'Get-Service')!;
      expect(all.output).toEqual(expect.arrayContaining(['WinRM', 'Spooler', 'himds', 'EventLog']));
    });

    it('reads only the listed logs: no Security, no structured query, no file, no omitted -LogName, no other door', () => {
      expect(failuresOf('event logs')).toEqual([]);
    });

    it('every constrained parameter refuses what is outside its set: other machines, files, queries, other classes', () => {
      expect(failuresOf('values outside the role')).toEqual([]);
    });

    it('every parameter and alias the Windows command has and the role does not list is refused', () => {
      expect(failuresOf('hidden parameters')).toEqual([]);
    });

    it('cannot stop, start, restart or change a service, or flush DNS', () => {
      expect(failuresOf('Diagnostics changes nothing')).toEqual([]);
    });
  });

  describe("the engineer's log collection", () => {
    const caseOf = (session: string, line: string) => shipped().cases.find((c) => c.session === session && c.line === line)!;

    it('Request-RemoteSupportLogCollection takes exactly -Category (mandatory, the fixed set), -Hours (1..24), -From and -To (UTC minutes)', () => {
      const utc = '^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?Z)$';
      for (const level of ['Diagnostics', 'DiagnosticsAndRepair']) {
        const shape = shipped().functions[level]!.find((f) => f.name === 'Request-RemoteSupportLogCollection')!;
        expect(shape.parameters).toEqual({
          Category: {
            type: 'String[]',
            mandatory: true,
            validateSet: ['ArcRemoteSupport', 'ArcAgent', 'Extensions', 'EventLogs', 'Cluster', 'HyperV', 'WindowsUpdate'],
            validatePattern: [],
          },
          Hours: { type: 'Int32', mandatory: false, validateSet: [], validatePattern: ['^([1-9]|1[0-9]|2[0-4])$'] },
          From: { type: 'String', mandatory: false, validateSet: [], validatePattern: [utc] },
          To: { type: 'String', mandatory: false, validateSet: [], validatePattern: [utc] },
        });
        const history = shipped().functions[level]!.find((f) => f.name === 'Get-RemoteSupportLogCollectionHistory')!;
        expect(history.parameters).toEqual({});
      }
      expect(shipped().functions['NoGroup']!.map((f) => f.found)).toEqual([false, false]);
    });

    it('runs the node agent with exactly the window, the categories and the connected user, and prints its answer', () => {
      expect(failuresOf('log collection')).toEqual([]);
      const fixed = caseOf(
        'Diagnostics',
        'Request-RemoteSupportLogCollection -Category EventLogs,ArcAgent -From 2026-01-01T00:00Z -To 2026-01-01T06:00Z',
      );
      expect(fixed.output).toEqual([`Log collection ${STAND_IN_COLLECTION_ID} requested: the SYSTEM agent collects and uploads it.`]);
      expect(fixed.agentCalls![0]!.slice(1)).toEqual([
        'request-log-collection',
        '--from',
        '2026-01-01T00:00:00Z',
        '--to',
        '2026-01-01T06:00:00Z',
        '--category',
        'EventLogs,ArcAgent',
        '--requested-by',
        CONNECTED_USER,
      ]);
    });

    it('-Hours N asks for the N hours that end now', () => {
      const call = caseOf('Diagnostics', 'Request-RemoteSupportLogCollection -Category WindowsUpdate -Hours 2').agentCalls![0]!;
      const from = Date.parse(call[3]!);
      const to = Date.parse(call[5]!);
      expect(to - from).toBe(2 * 3600_000);
      expect(Math.abs(Date.now() - to)).toBeLessThan(240_000);
    });

    it("the agent's refusal comes back as the error, naming the running collection", () => {
      const refusal = caseOf('Diagnostics', 'Request-RemoteSupportLogCollection -Category Cluster -Hours 1');
      expect(refusal.ok).toBe(false);
      expect(refusal.message).toContain(STAND_IN_RUNNING_ID);
    });

    it('a refused window says why, before any agent call', () => {
      const over = caseOf(
        'Diagnostics',
        'Request-RemoteSupportLogCollection -Category EventLogs -From 2026-01-01T00:00Z -To 2026-01-02T00:01Z',
      );
      expect(over.message).toMatch(/at most 24 hours/);
      const future = caseOf(
        'Diagnostics',
        'Request-RemoteSupportLogCollection -Category EventLogs -From 2098-12-31T12:00Z -To 2099-01-01T00:00Z',
      );
      expect(future.message).toMatch(/-To 2099-01-01T00:00Z is after now/);
      expect([over.agentCalls, future.agentCalls]).toEqual([[], []]);
    });

    it('without a connected user ($PSSenderInfo) it refuses, before any agent call', () => {
      const [result] = report.variants['no-sender']!.cases;
      expect(result).toMatchObject({ ok: false, agentCalls: [] });
      expect(result!.errorId).toMatch(/^ConnectedUserUnknown,/);
    });

    it('Get-RemoteSupportLogCollectionHistory shows the log collections only', () => {
      const history = caseOf('Diagnostics', 'Get-RemoteSupportLogCollectionHistory');
      expect(history.output).toHaveLength(1);
      expect(history.output[0]).toContain(`CollectionId=${STAND_IN_COLLECTION_ID}`);
      expect(history.output[0]).toContain('Outcome=uploaded');
    });
  });

  describe('DiagnosticsAndRepair', () => {
    it('restarts, stops and starts ordinary services, and repairs the DNS client', () => {
      expect(failuresOf('repairs')).toEqual([]);
      expect(shipped().actions).toEqual(REPAIR_ACTIONS);
    });

    it('cannot stop, restart or start a protected service in any spelling, by name, position, alias, pipeline, object, display name, list or wildcard', () => {
      const protectedCases = cases.filter((c: Expectation) => c.group === 'protected services');
      expect(protectedCases.filter((c) => c.line?.toLowerCase().includes('-name eventlog')).map(caseText)).toEqual(
        expect.arrayContaining(['Stop-Service -Name EventLog', 'Restart-Service -Name eventlog', 'Start-Service -Name EVENTLOG']),
      );
      expect(failuresOf('protected services')).toEqual([]);
    });

    it('left every protected service running, and only ordinary services were touched', () => {
      for (const name of [...PROTECTED_SERVICES, ...MUST_KEEP_RUNNING]) expect([name, shipped().services[name]]).toEqual([name, 'Running']);
      const ordinary = ORDINARY_SERVICES.map((s) => s.name);
      expect(shipped().actions.every((a) => ordinary.includes(a.split(' ')[1]!))).toBe(true);
    });

    it('the deployed pattern, in .NET and under the Turkish culture too, refuses every probe and accepts ordinary services', () => {
      const patternCheck = shipped().patternCheck;
      for (const [command, check] of Object.entries(patternCheck)) {
        expect(check.probes).toBe(protectedServiceProbes().length + CONTROL_SERVICES.length);
        const accepted = check.accepted.map((a) => a.split('/').slice(2).join('/'));
        expect([command, [...new Set(accepted)].sort()]).toEqual([command, [...CONTROL_SERVICES].sort()]);
        expect(check.accepted.filter((a) => a.startsWith('en-US/IgnoreCase/'))).toHaveLength(CONTROL_SERVICES.length);
      }
      expect(Object.keys(patternCheck).sort()).toEqual(['Restart-Service', 'Start-Service', 'Stop-Service']);
    });
  });

  it('the whole spec holds', () => {
    expect(proofFailures(shipped(), cases, SESSIONS)).toEqual([]);
  });
});
