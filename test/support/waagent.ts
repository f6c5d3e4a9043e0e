/**
 * Typed wrapper around test/agent/waagent_driver.py: runs one lifecycle step of an
 * extension package with the real Linux Azure guest agent (Debian `waagent`).
 * The request/response format is documented at the top of the driver.
 */
import execa from 'execa';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { shippedNode } from '../../scripts/build/shipped-node';

const repoRoot = path.resolve(__dirname, '..', '..');
const driverPath = path.join(repoRoot, 'test', 'agent', 'waagent_driver.py');

/** Where scripts/dev/unpack-waagent.sh puts the agent's Python packages. */
export const waagentPythonRoot = path.join(repoRoot, '.tools', 'waagent', 'root', 'usr', 'lib', 'python3', 'dist-packages');

export type AgentOp = 'install' | 'enable' | 'update' | 'disable' | 'uninstall';

export interface AgentHandlerSettings {
  publicSettings?: unknown;
  protectedSettings?: string | null;
  protectedSettingsCertThumbprint?: string | null;
}

export interface AgentStepRequest {
  /** The agent's Lib.Dir; all state between steps lives here. */
  libDir: string;
  /** Agent log and extension logs; default `<libDir>-log`. */
  logDir?: string;
  publisher: string;
  type: string;
  op: AgentOp;
  /** The version the goal state asks for (the new one for `update`). */
  version?: string;
  /** Unzipped package of `version`, copied where the agent would unzip it. */
  packageDir?: string;
  /** `update` only: the version installed before the step. */
  fromVersion?: string;
  /** Settings sequence number; omit for a handler without settings. */
  seq?: number | null;
  settings?: AgentHandlerSettings;
  /** Written verbatim as config/<seq>.settings (wins over `settings`). */
  rawSettings?: string;
  /** Dir of `<THUMBPRINT>.crt` / `<THUMBPRINT>.prv`, copied into libDir. */
  certDir?: string;
  /** Extra env vars for the handler processes. */
  env?: Record<string, string>;
  /** Replacement for `bin\handler.cmd` (default test/agent/handler-shim.sh). */
  shim?: string;
  /** Node binary the shim runs (default: the Node the package ships, scripts/build/shipped-node.ts). */
  nodeBin?: string;
  /** Kill the driver after this long (default 120 s). */
  timeoutMs?: number;
}

export interface AgentCommandRun {
  command: AgentOp;
  version: string;
  /** null if the agent could not launch it or it timed out. */
  exitCode: number | null;
  /** Protocol env vars the agent set: AZURE_GUEST_AGENT_*, ConfigSequenceNumber, VERSION... */
  env: Record<string, string>;
}

export interface AgentSubstatus {
  name: string | null;
  status: string;
  code: number;
  message: string | null;
}

/** ExtensionStatus as the agent's own status parser produced it. */
export interface AgentExtensionStatus {
  name: string;
  sequenceNumber: number;
  status: 'transitioning' | 'success' | 'warning' | 'error';
  code: number;
  message: string | null;
  operation: string | null;
  configurationAppliedTime: string | null;
  substatus: AgentSubstatus[];
}

export interface AgentHandlerStatus {
  name: string;
  version: string;
  /** Ready | NotReady | ... */
  status: string;
  code: number;
  message: string | null;
}

export interface AgentStepResult {
  ok: boolean;
  agentError: string | null;
  commandsRun: AgentCommandRun[];
  status: AgentExtensionStatus | null;
  handlerStatus: AgentHandlerStatus | null;
  statusFile: string | null;
  statusFileExists: boolean;
  statusParseError: string | null;
  /** Per version dir: config/HandlerState (Installed, Enabled, ...) and config/HandlerStatus. */
  handlerState: Record<string, { state: string; status: (AgentHandlerStatus & Record<string, unknown>) | null }>;
  extensionDir: string | null;
  /** The agent's own log of this step. */
  logFile: string;
}

function pythonBinary(): string {
  return process.env.WAAGENT_PYTHON ?? '/usr/bin/python3';
}

/** Throws a message that tells the developer what to run if the agent is not unpacked. */
export function assertWaagentAvailable(): void {
  const marker = path.join(waagentPythonRoot, 'azurelinuxagent', 'ga', 'exthandlers.py');
  if (!fs.existsSync(marker)) {
    throw new Error(
      `The Azure guest agent (Debian package waagent) is not unpacked at ${waagentPythonRoot}. ` +
        'Run scripts/dev/unpack-waagent.sh once (it uses apt-get download; it never installs waagent).',
    );
  }
  if (!fs.existsSync(pythonBinary())) {
    throw new Error(`Python interpreter ${pythonBinary()} not found (set WAAGENT_PYTHON to Debian's python3).`);
  }
}

/** Runs one lifecycle step through the real agent and returns what it observed. */
export async function runAgentStep(request: AgentStepRequest): Promise<AgentStepResult> {
  assertWaagentAvailable();
  const { nodeBin, timeoutMs, ...driverRequest } = request;
  const logDir = request.logDir ?? `${request.libDir}-log`;
  const tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'waagent-step-'));
  const requestFile = path.join(tmp, 'request.json');
  try {
    await fs.promises.writeFile(requestFile, JSON.stringify({ ...driverRequest, logDir }));
    // -S: no site-packages or .pth files of the machine; only the stdlib and PYTHONPATH.
    const run = await execa(pythonBinary(), ['-S', driverPath, requestFile], {
      cwd: repoRoot,
      reject: false,
      timeout: timeoutMs ?? 120_000,
      // A clean environment: the agent passes its own environment on to the handler.
      extendEnv: false,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmp,
        LANG: 'C.UTF-8',
        PYTHONPATH: waagentPythonRoot,
        NODE_BIN: nodeBin ?? (await shippedNode()),
      },
    });
    const where = `(agent log: ${path.join(logDir, 'waagent.log')})`;
    let parsed: (AgentStepResult & { harnessError?: string | null }) | undefined;
    try {
      parsed = JSON.parse(run.stdout.trim().split('\n').pop() ?? '');
    } catch {
      parsed = undefined;
    }
    if (!parsed || run.exitCode !== 0 || parsed.harnessError) {
      throw new Error(
        `waagent driver failed (exit ${run.exitCode}${run.timedOut ? ', timed out' : ''}) ${where}: ` +
          `${parsed?.harnessError ?? ''}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`,
      );
    }
    const { harnessError: _unused, ...result } = parsed;
    return { ...result, logFile: path.join(logDir, 'waagent.log') };
  } finally {
    await fs.promises.rm(tmp, { recursive: true, force: true });
  }
}
