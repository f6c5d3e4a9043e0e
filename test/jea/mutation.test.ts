/**
 * The proofs have teeth: each mutant below weakens one role file in a temporary copy (drops a
 * constraint, widens a list, adds a forbidden parameter, makes a hidden command visible), and the
 * runspace proofs of test/support/jea/proofs.ts, run on that copy (the safety rules bypassed), must
 * then fail where the weakening lets something through. Each mutant also records whether the
 * safety rules catch it on their own; some only the proofs catch. All mutants run in one pwsh
 * process, each in the one session its role affects.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import { PROTECTED_SERVICES } from '../../core/node-layout';
import { GeneratedJeaFiles, renderJeaFiles } from '../../jea/generate';
import { ROLES_DIR, loadRoles } from '../../jea/role-model';
import { checkRoleSetSafety } from '../../jea/safety';
import { protectedServiceProbes, unprotectedServiceNamePattern } from '../../jea/service-names';
import { accessGroups } from '../../jea/session-configuration';
import { findPwsh, makeTempDir } from '../support/cms';
import { ProofReport, ProofVariant, runJeaProof } from '../support/jea-proof';
import { loadInventory } from '../support/jea/inventory';
import { CONNECTED_USER, Expectation, SERVICE_TABLE, Session, proofCases, proofFailures } from '../support/jea/proofs';

type Edit = [from: string | RegExp, to: string];

interface Mutant {
  id: string;
  file: 'Diagnostics.yaml' | 'Repair.yaml';
  edits: Edit[];
  /** The spec's cases for these commands are run in the session the role affects. */
  commands: string[];
  /** A failure the proofs must report (a substring). */
  caughtBy: string;
  /** Whether the safety rules catch it too. */
  safety: boolean;
  /** Check the deployed service-name pattern with .NET's regex too. */
  patternCheck?: boolean;
}

const withoutEventLog = unprotectedServiceNamePattern(PROTECTED_SERVICES.filter((n) => n !== 'EventLog'));
/** Refuses the protected names as spelled only: JEA's IgnoreCase hides it; the culture-proof reading does not. */
const oneSpelling = `(?!(?:${PROTECTED_SERVICES.join('|')})$)[A-Za-z0-9_.$@-]+`;
const stopServiceName =
  '  - name: Stop-Service\n    module: Microsoft.PowerShell.Management\n    parameters:\n      - name: Name\n        refuseProtectedServices: true\n';
const restartServiceName =
  '  - name: Restart-Service\n    module: Microsoft.PowerShell.Management\n    parameters:\n      - name: Name\n        refuseProtectedServices: true\n';
const startServiceName =
  '  - name: Start-Service\n    module: Microsoft.PowerShell.Management\n    parameters:\n      - name: Name\n        refuseProtectedServices: true\n';

const MUTANTS: Mutant[] = [
  // The engineer's log collection: what gets through reaches the (stand-in) agent.
  {
    id: 'Request-RemoteSupportLogCollection -Hours: up to 99',
    file: 'Diagnostics.yaml',
    edits: [["validatePattern: '[1-9]|1[0-9]|2[0-4]'", "validatePattern: '[1-9][0-9]?'"]],
    commands: ['Request-RemoteSupportLogCollection'],
    caughtBy: 'Request-RemoteSupportLogCollection -Category EventLogs -Hours 25: expected no agent call',
    safety: false,
  },
  {
    id: 'Request-RemoteSupportLogCollection: the 24-hour check dropped',
    file: 'Diagnostics.yaml',
    edits: [[/\n\s+elseif \(\(\$end - \$start\)\.TotalHours -gt 24\) \{[^\n]*/, '']],
    commands: ['Request-RemoteSupportLogCollection'],
    caughtBy: '-To 2026-01-02T00:01Z: expected no agent call',
    safety: false,
  },
  {
    id: 'Request-RemoteSupportLogCollection: a -To after now taken',
    file: 'Diagnostics.yaml',
    edits: [['if ($end -gt $now) {', 'if ($false) {']],
    commands: ['Request-RemoteSupportLogCollection'],
    caughtBy: '-To 2099-01-01T00:00Z: expected no agent call',
    safety: false,
  },
  {
    id: 'Request-RemoteSupportLogCollection -Category: set dropped',
    file: 'Diagnostics.yaml',
    edits: [['        validateSet: [ArcRemoteSupport, ArcAgent, Extensions, EventLogs, Cluster, HyperV, WindowsUpdate]\n', '']],
    commands: ['Request-RemoteSupportLogCollection'],
    caughtBy: 'Request-RemoteSupportLogCollection -Hours 1 -Category Security: expected no agent call',
    safety: true,
  },
  // Event logs.
  {
    id: 'Get-WinEvent -LogName: set dropped',
    file: 'Diagnostics.yaml',
    edits: [['        mandatory: true\n        validateSet: *logNames\n', '        mandatory: true\n']],
    commands: ['Get-WinEvent'],
    caughtBy: 'Get-WinEvent -LogName Security: expected a refusal',
    safety: true,
  },
  {
    id: 'Get-WinEvent -LogName: Security added to the set',
    file: 'Diagnostics.yaml',
    edits: [['    - Application\n    - System\n', '    - Application\n    - Security\n    - System\n']],
    commands: ['Get-WinEvent'],
    caughtBy: 'Get-WinEvent -LogName Security: expected a refusal',
    safety: false,
  },
  {
    id: 'Get-WinEvent -LogName: not mandatory',
    file: 'Diagnostics.yaml',
    edits: [['        mandatory: true\n        validateSet: *logNames\n', '        validateSet: *logNames\n']],
    commands: ['Get-WinEvent'],
    caughtBy: 'Diagnostics: Get-WinEvent -MaxEvents 5: expected',
    safety: true,
  },
  {
    id: 'Get-WinEvent: a -FilterXPath passed through',
    file: 'Diagnostics.yaml',
    edits: [
      [
        "      - name: Hours\n        type: int\n        validatePattern: '[1-9][0-9]{0,3}'\n",
        "      - name: FilterXPath\n        type: string\n        validatePattern: '[^\\n]+'\n      - name: Hours\n        type: int\n        validatePattern: '[1-9][0-9]{0,3}'\n",
      ],
      ["      $xpath = '*'\n", "      $xpath = '*'\n      if ($FilterXPath) { $xpath = $FilterXPath }\n"],
    ],
    commands: ['Get-WinEvent'],
    caughtBy: "Get-WinEvent -LogName System -FilterXPath '<QueryList>",
    safety: true,
  },
  // Other values.
  {
    id: 'Get-Counter -Counter: pattern dropped',
    file: 'Diagnostics.yaml',
    edits: [["        validatePattern: '\\\\[^\\\\].{0,255}'\n", '']],
    commands: ['Get-Counter'],
    caughtBy: 'Get-Counter -Counter "\\\\OTHERHOST',
    safety: true,
  },
  {
    id: 'Get-Counter -Counter: pattern allows \\\\host',
    file: 'Diagnostics.yaml',
    edits: [["'\\\\[^\\\\].{0,255}'", "'\\\\.{1,255}'"]],
    commands: ['Get-Counter'],
    caughtBy: 'Get-Counter -Counter "\\\\OTHERHOST',
    safety: true,
  },
  {
    id: 'Get-CimInstance -ClassName: Win32_UserAccount added',
    file: 'Diagnostics.yaml',
    edits: [['          - Win32_BIOS\n', '          - Win32_BIOS\n          - Win32_UserAccount\n']],
    commands: ['Get-CimInstance'],
    caughtBy: 'Get-CimInstance -ClassName Win32_UserAccount: expected a refusal',
    safety: false,
  },
  // Forbidden parameters.
  {
    id: 'Get-EventLog: -ComputerName added',
    file: 'Diagnostics.yaml',
    edits: [['      - name: Source\n', "      - name: ComputerName\n        validatePattern: '[A-Za-z0-9.-]+'\n      - name: Source\n"]],
    commands: ['Get-EventLog'],
    caughtBy: 'Get-EventLog -ComputerName x: expected',
    safety: true,
  },
  {
    id: 'Get-CimInstance: -Query added with a tight pattern',
    file: 'Diagnostics.yaml',
    edits: [
      [
        "      - name: Property\n        validatePattern: '[A-Za-z_][A-Za-z0-9_]{0,63}|\\*'\n",
        "      - name: Property\n        validatePattern: '[A-Za-z_][A-Za-z0-9_]{0,63}|\\*'\n      - name: Query\n        validatePattern: '[A-Za-z0-9 *_]+'\n",
      ],
    ],
    commands: ['Get-CimInstance'],
    caughtBy: 'Get-CimInstance -Query x: expected',
    safety: false,
  },
  {
    id: 'Get-Process: every parameter',
    file: 'Diagnostics.yaml',
    edits: [[/( {2}- name: Get-Process\n {4}module: Microsoft\.PowerShell\.Management\n) {4}parameters:\n(?: {6}.*\n| {8}.*\n)+/, '$1']],
    commands: ['Get-Process'],
    caughtBy: 'Get-Process -ComputerName x: expected a refusal',
    safety: true,
  },
  // Hidden commands made visible.
  {
    id: 'Get-Content visible',
    file: 'Diagnostics.yaml',
    edits: [
      [
        'visibleCmdlets:\n',
        "visibleCmdlets:\n  - name: Get-Content\n    module: Microsoft.PowerShell.Management\n    parameters:\n      - name: Path\n        validatePattern: '[^<>]+'\n",
      ],
    ],
    commands: ['Get-Content'],
    caughtBy: 'Get-Content -Path /etc/hostname: expected a refusal',
    safety: true,
  },
  {
    id: 'Set-Service visible',
    file: 'Repair.yaml',
    edits: [
      [
        'visibleCmdlets:\n',
        'visibleCmdlets:\n  - name: Set-Service\n    module: Microsoft.PowerShell.Management\n    parameters:\n      - name: Name\n        refuseProtectedServices: true\n      - name: StartupType\n        validateSet: [Disabled]\n',
      ],
    ],
    commands: ['Set-Service'],
    caughtBy: 'visible beyond the spec: Set-Service',
    safety: true,
  },
  // Services.
  {
    id: 'Stop-Service -Name: EventLog left off the list',
    file: 'Repair.yaml',
    edits: [[stopServiceName, stopServiceName.replace('refuseProtectedServices: true', `validatePattern: '${withoutEventLog}'`)]],
    commands: ['Stop-Service'],
    caughtBy: 'Stop-Service -Name EventLog: expected a refusal',
    safety: true,
    patternCheck: true,
  },
  {
    id: 'Restart-Service -Name: constraint dropped',
    file: 'Repair.yaml',
    edits: [[restartServiceName, restartServiceName.replace('        refuseProtectedServices: true\n', '')]],
    commands: ['Restart-Service'],
    caughtBy: 'Restart-Service -Name WinRM: expected a refusal',
    safety: true,
  },
  {
    id: 'Start-Service -Name: one spelling refused',
    file: 'Repair.yaml',
    edits: [[startServiceName, startServiceName.replace('refuseProtectedServices: true', `validatePattern: '${oneSpelling}'`)]],
    commands: ['Start-Service'],
    caughtBy: 'Start-Service accepts winrm',
    safety: true,
    patternCheck: true,
  },
  {
    id: 'Stop-Service: -Force added',
    file: 'Repair.yaml',
    edits: [[stopServiceName, `${stopServiceName}      - name: Force\n        switch: true\n`]],
    commands: ['Stop-Service'],
    caughtBy: 'WinRM is Stopped after the sessions',
    safety: true,
  },
  {
    id: 'Stop-Service: -InputObject added',
    file: 'Repair.yaml',
    edits: [[stopServiceName, `${stopServiceName}      - name: InputObject\n        validatePattern: '.+'\n`]],
    commands: ['Stop-Service'],
    caughtBy: 'Stop-Service -InputObject EventLog: expected a refusal',
    safety: true,
  },
  {
    id: 'Stop-Service: -DisplayName added',
    file: 'Repair.yaml',
    edits: [[stopServiceName, `${stopServiceName}      - name: DisplayName\n        validatePattern: '[A-Za-z ()-]+'\n`]],
    commands: ['Stop-Service'],
    caughtBy: 'Stop-Service -DisplayName "Windows Event Log": expected a refusal',
    safety: true,
  },
];

function applyEdits(text: string, mutant: Mutant): string {
  let result = text;
  for (const [from, to] of mutant.edits) {
    const count = typeof from === 'string' ? result.split(from).length - 1 : (result.match(new RegExp(from.source, 'g')) ?? []).length;
    if (count !== 1) throw new Error(`${mutant.id}: ${String(from)} occurs ${count} times in ${mutant.file}, not once`);
    result = typeof from === 'string' ? result.replace(from, () => to) : result.replace(from, to);
  }
  if (result === text) throw new Error(`${mutant.id}: the edits changed nothing`);
  return result;
}

/** What the .NET pattern check says beyond the probes it must refuse. */
function patternFailures(check: Record<string, { accepted: string[] }>): string[] {
  return Object.entries(check).flatMap(([command, c]) => {
    const names = [...new Set(c.accepted.map((a) => a.split('/').slice(2).join('/')))];
    return names.length > 0 ? [`${command} accepts ${names.slice(0, 5).join(', ')}`] : [];
  });
}

describe('weakening a role makes the proofs fail', () => {
  const groups = accessGroups('ARS-TEST-NODE');
  const sessionIds: Record<'Diagnostics.yaml' | 'Repair.yaml', Session> = {
    'Diagnostics.yaml': 'Diagnostics',
    'Repair.yaml': 'DiagnosticsAndRepair',
  };
  const sessionGroups: Record<string, string> = { Diagnostics: groups.diagnostics, DiagnosticsAndRepair: groups.repair };
  const shippedRoles = loadRoles();
  const spec = proofCases(shippedRoles, loadInventory());
  const selected = (mutant: Mutant): Expectation[] =>
    spec.filter((c) => c.session === sessionIds[mutant.file] && mutant.commands.includes(c.command ?? ''));
  let work: string;
  let report: ProofReport;
  const mutated = new Map<string, GeneratedJeaFiles>();
  const safety = new Map<string, string[]>();

  beforeAll(async () => {
    work = await makeTempDir('ars-jea-mutation');
    const variants: ProofVariant[] = [];
    for (const [index, mutant] of MUTANTS.entries()) {
      const dir = path.join(work, 'roles', String(index));
      await fs.mkdir(dir, { recursive: true });
      for (const file of ['Diagnostics.yaml', 'Repair.yaml']) {
        const text = await fs.readFile(path.join(ROLES_DIR, file), 'utf8');
        await fs.writeFile(path.join(dir, file), file === mutant.file ? applyEdits(text, mutant) : text);
      }
      const roles = loadRoles(dir);
      safety.set(mutant.id, checkRoleSetSafety(roles));
      const jea = renderJeaFiles(roles);
      mutated.set(mutant.id, jea);
      const session = sessionIds[mutant.file];
      variants.push({
        id: `mutant-${index}`,
        jea,
        sessions: [{ id: session, groups: [sessionGroups[session]!] }],
        cases: selected(mutant),
        ...(mutant.patternCheck ? { probes: protectedServiceProbes() } : {}),
      });
    }
    // The same sessions and cases on the shipped roles: they hold, so what fails is the mutation.
    variants.push({
      id: 'shipped',
      jea: renderJeaFiles(shippedRoles),
      sessions: ['Diagnostics', 'DiagnosticsAndRepair'].map((id) => ({ id, groups: [sessionGroups[id]!] })),
      cases: [...new Set(MUTANTS.flatMap(selected))],
      probes: protectedServiceProbes(),
    });
    report = await runJeaProof({
      pwsh: findPwsh(),
      work: path.join(work, 'proof'),
      computerName: 'ARS-TEST-NODE',
      variants,
      control: [],
      describe: [],
      services: SERVICE_TABLE,
      agent: { connectedUser: CONNECTED_USER },
    });
  }, 300_000);
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  it('the shipped roles pass the same selection', () => {
    const shipped = report.variants['shipped']!;
    expect([
      ...proofFailures(shipped, [...new Set(MUTANTS.flatMap(selected))], ['Diagnostics', 'DiagnosticsAndRepair']),
      ...patternFailures(shipped.patternCheck),
    ]).toEqual([]);
  });

  it.each(MUTANTS.map((m, i) => [m.id, m, i] as const))('%s: the proofs fail', (_id, mutant, index) => {
    expect(mutated.get(mutant.id)!.roles).not.toEqual(shippedRoles);
    expect(selected(mutant).length).toBeGreaterThan(0);
    const variant = report.variants[`mutant-${index}`]!;
    const failures = [...proofFailures(variant, selected(mutant), [sessionIds[mutant.file]]), ...patternFailures(variant.patternCheck)];
    expect(failures).toEqual(expect.arrayContaining([expect.stringContaining(mutant.caughtBy)]));
  });

  it.each(MUTANTS.map((m) => [m.id, m] as const))('%s: the safety rules say so too, or only the proofs catch it', (_id, mutant) => {
    expect([mutant.id, (safety.get(mutant.id) ?? []).length > 0]).toEqual([mutant.id, mutant.safety]);
  });
});
