/**
 * Runs test/support/jea/Invoke-JeaProof.ps1 with the real pwsh: installs the generated JEA module
 * into a temporary module folder, writes our session configuration for a test computer, and runs
 * command lines in JEA runspaces built from them (one pwsh launch for everything).
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import * as path from 'path';
import { JEA_MODULE_NAME } from '../../core/node-layout';
import { GeneratedJeaFiles } from '../../jea/generate';
import { generateSessionConfiguration } from '../../jea/session-configuration';

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
}

export interface CaseResult {
  session: string;
  line: string | null;
  script: string | null;
  ok: boolean;
  errorId: string | null;
  message: string | null;
  output: string[];
}

export interface ProofReport {
  standIns: { real: string[]; standIn: Record<string, string>; moduleMismatch: string[] };
  sessions: Record<string, { languageMode: string; visibleCommands: string[]; providers: Array<{ name: string; visibility: string }> }>;
  cases: CaseResult[];
  services: Record<string, string>;
  actions: string[];
  patternCheck: Record<string, { probes: number; accepted: string[] }>;
  transcripts: Array<{ file: string; text: string }>;
}

export interface ProofInput {
  pwsh: string;
  work: string;
  jea: GeneratedJeaFiles;
  computerName: string;
  sessions: ProofSession[];
  cases: ProofCase[];
  probes: string[];
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

export async function runJeaProof(input: ProofInput): Promise<ProofReport> {
  const moduleRoot = path.join(input.work, 'modules');
  await installModule(input.jea, moduleRoot);
  const psscPath = path.join(input.work, 'ArcRemoteSupport.pssc');
  await fs.writeFile(psscPath, generateSessionConfiguration(input.computerName), 'ascii');

  const commands = input.jea.roles.flatMap((role) =>
    [
      ...role.visibleCmdlets.map((c) => ({ ...c, kind: 'cmdlet' })),
      ...role.visibleFunctions.map((c) => ({ ...c, kind: 'function' })),
    ].map((c) => ({ name: c.name, kind: c.kind, module: c.module ?? null, parameters: c.parameters?.map((p) => p.name) ?? null })),
  );
  const request = {
    psscPath,
    moduleRoot,
    work: input.work,
    serviceSource: path.join(__dirname, 'jea', 'ServiceStandIn.cs'),
    patternProbeSource: path.join(__dirname, 'jea', 'PatternProbe.cs'),
    commands,
    sessions: input.sessions,
    cases: input.cases.map((c) => ({ session: c.session, line: c.line ?? null, script: c.script ?? null })),
    probes: input.probes,
  };
  const { stdout } = await execa(input.pwsh, ['-NoProfile', '-NonInteractive', '-File', path.join(__dirname, 'jea', 'Invoke-JeaProof.ps1')], {
    input: JSON.stringify(request),
    env: { POWERSHELL_TELEMETRY_OPTOUT: '1', POWERSHELL_UPDATECHECK: 'Off' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as ProofReport;
}
