/**
 * Runs test/support/jea/Invoke-JeaProof.ps1 with the real pwsh: generates the stand-ins of the
 * Windows commands from the Windows Server 2016 inventory, installs each role set to prove (the
 * shipped roles, or weakened copies) into a temporary module folder with our session configuration
 * for a test computer, and runs command lines in JEA runspaces built from them, then the refused
 * lines in an unrestricted control session. One pwsh launch for everything.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { JEA_MODULE_NAME } from '../../core/node-layout';
import { AGENT_CALL_COMMANDS } from '../../jea/agent-call';
import { GeneratedJeaFiles, modulesToImport } from '../../jea/generate';
import { generateSessionConfiguration } from '../../jea/session-configuration';
import { loadInventory } from './jea/inventory';
import { CaseResult, VariantReport } from './jea/proofs';
import type { RoleDefinition } from '../../jea/role-model';
import { CommandKind, StandInModule, standInModules } from './jea/stand-ins';

export interface ProofCase {
  session: string;
  /** A command line as a user types it (sent as commands, the way a remote client does). */
  line?: string;
  /** Sent as a script instead: what a NoLanguage session must refuse. */
  script?: string;
}

export interface ProofSession {
  id: string;
  /** The groups the role verifier says the user belongs to. */
  groups: string[];
  /** With ProofInput.agent: no $PSSenderInfo in this session (no connected user). */
  noSender?: boolean;
}

export interface ProofVariant {
  id: string;
  jea: GeneratedJeaFiles;
  sessions: ProofSession[];
  cases: ProofCase[];
  /** Module-qualified names to resolve from inside each session, by session id. */
  resolve?: Readonly<Record<string, readonly string[]>>;
  /** Service names the deployed Repair pattern must refuse; checked with .NET's regex when given. */
  probes?: readonly string[];
  /** Our own functions whose parameters (type, mandatory, validation) each session reports. */
  functions?: readonly string[];
  transcripts?: boolean;
}

export interface DescribedCommand {
  commandType: string;
  module: string;
  parameters: Record<
    string,
    { aliases: string[]; switch: boolean; sets: Record<string, { mandatory: boolean; position: number; pipeline: boolean }> }
  >;
}

export interface ProofReport {
  standIns: { commands: Record<string, { module: string; source: 'real' | 'stand-in' | 'missing'; kind: CommandKind }>; lacking: string[] };
  described: Record<string, DescribedCommand | null>;
  variants: Record<
    string,
    VariantReport & {
      patternCheck: Record<string, { probes: number; accepted: string[] }>;
      transcripts: Array<{ file: string; text: string }>;
      functions: Record<string, FunctionShape[]>;
    }
  >;
  control: CaseResult[];
  /** Milliseconds since the start of the pwsh process after each phase: standIns, each variant, control. */
  timings: Record<string, number>;
}

export interface FunctionShape {
  name: string;
  found: boolean;
  parameters?: Record<string, { type: string; mandatory: boolean; validateSet: string[]; validatePattern: string[] }>;
}

export interface ProofInput {
  pwsh: string;
  work: string;
  computerName: string;
  variants: ProofVariant[];
  /** Lines for the unrestricted control session. */
  control: ProofCase[];
  /** Commands whose parameter metadata the control session reports. */
  describe: readonly string[];
  services: ReadonlyArray<{ name: string; displayName: string; dependents: readonly string[] }>;
  /**
   * Puts a stand-in node agent where our functions run it (a C: drive in each session, mapped to a
   * folder holding Program Files\ArcRemoteSupport\node.exe and agent.js) and makes each session's
   * $PSSenderInfo name this connected user. Each case's result lists the agent calls it made.
   */
  agent?: { connectedUser: string };
}

/**
 * The stand-in agent (a shell script named node.exe): records each call's arguments, one per line
 * and a line `--end--` after them, and answers as the agent would: `history` with one log
 * collection entry and one access change, `request-log-collection` with a collection id, or, for
 * the category Cluster, a refusal (exit 3) naming a running collection.
 */
export const STAND_IN_COLLECTION_ID = '6f1d2c3b-0000-4000-8000-00000000c011';
export const STAND_IN_RUNNING_ID = '6f1d2c3b-0000-4000-8000-0000000000a1';
export const STAND_IN_HISTORY_ENTRY = {
  kind: 'LogCollection',
  logCollection: {
    collectionId: STAND_IN_COLLECTION_ID,
    trigger: 'engineer',
    requestedBy: 'ARS-TEST-NODE\\ars-engineer',
    window: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T06:00:00.000Z' },
    categories: ['EventLogs'],
    outcome: 'uploaded',
  },
};

function standInAgentScript(callsFile: string): string {
  const history = [JSON.stringify({ entry: STAND_IN_HISTORY_ENTRY }), JSON.stringify({ entry: { kind: 'Granted', by: 'owner' } })];
  return [
    '#!/bin/sh',
    `for argument in "$@"; do printf '%s\\n' "$argument" >> '${callsFile}'; done`,
    `printf -- '--end--\\n' >> '${callsFile}'`,
    'case "$2" in',
    ...[`  history) printf '%s\\n' '${history[0]}' '${history[1]}'; exit 0 ;;`],
    '  request-log-collection)',
    '    case "$*" in',
    `      *Cluster*) echo 'Refused: log collection ${STAND_IN_RUNNING_ID} is running on this node; one collection at a time.' >&2; exit 3 ;;`,
    '    esac',
    `    echo 'Log collection ${STAND_IN_COLLECTION_ID} requested: the SYSTEM agent collects and uploads it.'; exit 0 ;;`,
    'esac',
    "echo 'unknown command' >&2",
    'exit 2',
    '',
  ].join('\n');
}

async function writeStandInAgent(work: string): Promise<{ driveRoot: string; callsFile: string }> {
  const driveRoot = path.join(work, 'agent-drive');
  const folder = path.join(driveRoot, 'Program Files', 'ArcRemoteSupport');
  const callsFile = path.join(work, 'agent-calls.txt');
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(path.join(folder, 'node.exe'), standInAgentScript(callsFile), { mode: 0o755 });
  await fs.writeFile(path.join(folder, 'agent.js'), '// stand-in: node.exe above answers\n');
  return { driveRoot, callsFile };
}

/** Copies the generated module files under <moduleRoot>/ArcRemoteSupportJea, as on a node. */
export async function installModule(jea: GeneratedJeaFiles, moduleRoot: string): Promise<string> {
  const folder = path.join(moduleRoot, JEA_MODULE_NAME);
  for (const file of jea.files) {
    const target = path.join(folder, ...file.relativePath.split('/'));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, Buffer.from(file.content, 'ascii'));
  }
  return folder;
}

/** Cmdlet or function, as the roles list each command (the first role set that lists it decides). */
function declaredKinds(roles: readonly RoleDefinition[]): Map<string, CommandKind> {
  const kinds = new Map<string, CommandKind>();
  for (const role of roles) {
    for (const c of role.visibleCmdlets) if (!kinds.has(c.name.toLowerCase())) kinds.set(c.name.toLowerCase(), 'cmdlet');
    for (const c of role.visibleFunctions) if (!kinds.has(c.name.toLowerCase())) kinds.set(c.name.toLowerCase(), 'function');
  }
  return kinds;
}

/** The stand-in modules the roles need: every module a role imports, and Microsoft.PowerShell.Core (always loaded) to check its commands. */
function standInsFor(roles: readonly RoleDefinition[]): StandInModule[] {
  const modules = [...new Set(['Microsoft.PowerShell.Core', ...roles.flatMap(modulesToImport)])];
  return standInModules(loadInventory(), modules, declaredKinds(roles));
}

const BEHAVIOR_SOURCE = path.join(__dirname, 'jea', 'StandInBehavior.cs');
const PWSH_ENV = { POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' };

/**
 * Compiles the stand-ins of the roles' Windows commands once into `work` (JeaRunspace.psm1
 * Install-JeaStandIns) and returns the file other pwsh processes pass to Import-JeaStandIns:
 * { state, services }. The New-PSSession stand-in of the channel session tests opens its JEA
 * runspaces with them.
 */
export async function installJeaStandIns(
  pwsh: string,
  work: string,
  roles: readonly RoleDefinition[],
  services: ProofInput['services'],
): Promise<string> {
  const request = { work, behaviorSource: BEHAVIOR_SOURCE, standIns: standInsFor(roles), services };
  const requestPath = path.join(work, 'standins-request.json');
  const statePath = path.join(work, 'standins.json');
  await fs.mkdir(work, { recursive: true });
  await fs.writeFile(requestPath, JSON.stringify(request));
  const script = [
    "$ErrorActionPreference = 'Stop'",
    `Import-Module '${path.join(__dirname, 'jea', 'JeaRunspace.psm1')}'`,
    `$request = Get-Content -Raw -LiteralPath '${requestPath}' | ConvertFrom-Json`,
    '$state = Install-JeaStandIns $request.work $request.behaviorSource $request.standIns $request.services',
    `ConvertTo-Json -Depth 8 -InputObject ([ordered]@{ state = $state; services = $request.services }) | Set-Content -LiteralPath '${statePath}'`,
  ].join('\n');
  await execa(pwsh, ['-NoProfile', '-NonInteractive', '-Command', script], { env: PWSH_ENV });
  return statePath;
}

export async function runJeaProof(input: ProofInput): Promise<ProofReport> {
  const standIns = standInsFor(input.variants.flatMap((v) => v.jea.roles));

  const variants = [];
  for (const variant of input.variants) {
    const folder = path.join(input.work, 'variants', variant.id);
    const moduleRoot = path.join(folder, 'modules');
    await installModule(variant.jea, moduleRoot);
    const psscPath = path.join(folder, 'ArcRemoteSupport.pssc');
    await fs.writeFile(psscPath, generateSessionConfiguration(input.computerName), 'ascii');
    variants.push({
      id: variant.id,
      moduleRoot,
      psscPath,
      sessions: variant.sessions,
      cases: variant.cases.map((c) => ({ session: c.session, line: c.line ?? null, script: c.script ?? null })),
      resolve: variant.resolve ?? {},
      probes: variant.probes ?? [],
      functions: variant.functions ?? [],
      transcripts: variant.transcripts === true,
    });
  }
  const request = {
    work: input.work,
    behaviorSource: BEHAVIOR_SOURCE,
    patternProbeSource: path.join(__dirname, 'jea', 'PatternProbe.cs'),
    standIns,
    services: input.services,
    describe: input.describe,
    variants,
    control: input.control.map((c) => ({ session: c.session, line: c.line ?? null, script: c.script ?? null })),
    // The generated agent call resolves the agent's path with the real Convert-Path.
    keepReal: AGENT_CALL_COMMANDS.map((c) => c.split('\\').pop()!),
    agent: input.agent ? { ...(await writeStandInAgent(input.work)), connectedUser: input.agent.connectedUser } : null,
  };
  const { stdout } = await execa(
    input.pwsh,
    ['-NoProfile', '-NonInteractive', '-File', path.join(__dirname, 'jea', 'Invoke-JeaProof.ps1')],
    {
      input: JSON.stringify(request),
      env: PWSH_ENV,
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as ProofReport;
}
