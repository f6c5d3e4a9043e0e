/**
 * The JEA session launcher on the simulated machine (windows/jea-session.ts's port). Semantics:
 * - open: the node is on, the endpoint is registered, the principal is a local user of the node
 *   and a member (as COMPUTER\name) of a level group (GROUPS in core/node-layout.ts), else it
 *   rejects saying which; like ChannelSession.ps1 it gives the principal a new password (the model
 *   records only when), then records the session process (a powershell.exe running
 *   ChannelSession.ps1, as the agent starts it) and the WinRM shell of the endpoint as the principal;
 * - run: the line is parsed as a NoLanguage session takes it (session-command-line.ts), checked
 *   against the GENERATED roles of the principal's groups (jea-visibility.ts), then run on the
 *   model (session-commands.ts); refusals are error output with JEA's words, and `ok: false`;
 *   our own functions that run the node agent (Request-RemoteSupportLogCollection...) make their
 *   checks, then run the node's installed agent with the same command line as on Windows, the
 *   connected user being COMPUTER\principal (session-agent-functions.ts);
 * - the session ends by itself within about `pollMs` (default 100 ms) when its process is ended
 *   (endChannelSessionProcesses, power off), its shell is ended (endSessions), or the principal is
 *   deleted; what is left of it (process, shell) is then removed;
 * - close removes the process and the shell; `ended` then resolves with reason 'closed'.
 */
import type { FunctionDefinition, FunctionParameter, ParameterRule, RoleDefinition } from '../../jea/role-model';
import { runInstalledAgent } from './installed-agent';
import { SIMULATOR_VARIABLE } from './simulator-environment';
import { agentFunctionAnswer, planAgentFunction } from './session-agent-functions';
import {
  CHANNEL_SESSION_SCRIPT,
  type JeaCommandResult,
  type JeaOutputStream,
  type JeaSession,
  type JeaSessionLauncher,
  type JeaSessionRequest,
} from '../../windows/jea-session';
import { bindParameterName, notRecognized, rolesOfGroups, validateValue, visibleCommands, type VisibleCommand } from './jea-visibility';
import type { MachineModel, NodeModel } from './machine-model';
import { readMachine, updateMachine } from './model-store';
import { sameName } from './names';
import { runModelCommand, positionalParameter } from './session-commands';
import { parseCommandLine, type Token } from './session-command-line';

/** Set by the simulator bundle (simulator-bundle.ts): the roles as generated when it was built. */
declare const SIMULATOR_JEA_ROLES: RoleDefinition[] | undefined;

/** The generated roles: from the bundle, or generated now from jea/roles (source runs). Loaded on use. */
function generatedRoles(): RoleDefinition[] {
  if (typeof SIMULATOR_JEA_ROLES !== 'undefined') return SIMULATOR_JEA_ROLES;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { generateJeaFiles } = require('../../jea/generate') as typeof import('../../jea/generate');
  return generateJeaFiles().roles;
}

export interface SimulatedSessionOptions {
  /** The node the agent runs on; default the model's localNode. */
  localNode?: string;
  /** Where the package's scripts are on the node (the session process's command line names it). */
  scriptsDir?: string;
  /** How often an open session looks at the model; default 100 ms. */
  pollMs?: number;
  /**
   * The simulator module the node agent processes that sessions start load (our functions that
   * run the agent); default ARC_REMOTE_SUPPORT_SIMULATOR, which every simulated agent process has.
   */
  simulator?: string;
}

interface Opened {
  nodeKey: string;
  processId: number;
  shellId: string;
  userName: string;
  roles: RoleDefinition[];
}

export class SimulatedSessionLauncher implements JeaSessionLauncher {
  private roles: RoleDefinition[] | null = null;

  constructor(
    private readonly modelPath: string,
    private readonly options: SimulatedSessionOptions = {},
  ) {}

  async open(request: JeaSessionRequest): Promise<JeaSession> {
    this.roles ??= generatedRoles();
    const roles = this.roles;
    const what = `The JEA session of '${request.userName}' at endpoint '${request.configurationName}' (session ${request.sessionId})`;
    const scriptsDir = this.options.scriptsDir ?? 'C:\\Packages\\Plugins\\ArcRemoteSupport\\scripts';
    let opened: Opened;
    try {
      opened = await updateMachine(this.modelPath, (model) => {
        const nodeKey = (this.options.localNode ?? model.localNode).toUpperCase();
        const node = model.nodes[nodeKey];
        if (!node || node.power !== 'On') throw new Error(`the node '${nodeKey}' is not running`);
        const endpoint = Object.values(node.sessionConfigurations).find((c) => sameName(c.name, request.configurationName));
        if (!endpoint)
          throw new Error(`the node has no session configuration '${request.configurationName}': the JEA endpoint is not registered`);
        const user = node.users[request.userName.toLowerCase()];
        if (!user) throw new Error(`User ${request.userName} was not found on ${nodeKey}: create the grant's principal first`);
        const member = `${nodeKey}\\${user.name}`;
        const groups = Object.values(node.groups)
          .filter((group) => group.members.some((one) => sameName(one, member)))
          .map((group) => group.name);
        const sessionRoles = rolesOfGroups(groups, roles);
        if (sessionRoles.length === 0) throw new Error(`Access is denied: ${member} is in no access level group of the endpoint`);
        user.passwordLastSetUtc = model.clock.nowUtc;
        const processId = Math.max(4000, ...node.processes.map((p) => p.id)) + 4;
        node.processes.push({
          id: processId,
          name: 'powershell.exe',
          commandLine: `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "${scriptsDir}\\${CHANNEL_SESSION_SCRIPT}" -UserName ${user.name} -ConfigurationName ${endpoint.name}`,
          startedAtUtc: model.clock.nowUtc,
        });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { randomUUID } = require('crypto') as typeof import('crypto');
        const shellId = randomUUID().toUpperCase();
        node.sessions.push({ id: shellId, configurationName: endpoint.name, user: member, startedAtUtc: model.clock.nowUtc });
        return { nodeKey, processId, shellId, userName: user.name, roles: sessionRoles };
      });
    } catch (error) {
      throw new Error(`${what} did not open: ${(error as Error).message}`);
    }
    return new SimulatedJeaSession(
      this.modelPath,
      opened,
      this.options.pollMs ?? 100,
      this.options.simulator ?? process.env[SIMULATOR_VARIABLE],
    );
  }
}

class SimulatedJeaSession implements JeaSession {
  readonly processId: number;
  readonly ended: Promise<{ reason: string }>;
  private endReason: string | null = null;
  private resolveEnded: (value: { reason: string }) => void = () => undefined;
  private readonly watcher: NodeJS.Timeout;
  private readonly visible: Map<string, VisibleCommand>;
  private running = false;

  constructor(
    private readonly modelPath: string,
    private readonly opened: Opened,
    pollMs: number,
    private readonly simulator: string | undefined,
  ) {
    this.processId = opened.processId;
    this.visible = visibleCommands(opened.roles);
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.watcher = setInterval(() => void this.watch(), pollMs);
  }

  /** Why the session can no longer be, or null while it is whole. */
  private brokenBy(model: MachineModel): string | null {
    const node = model.nodes[this.opened.nodeKey];
    if (!node || node.power !== 'On') return `the node ${this.opened.nodeKey} stopped`;
    if (!node.processes.some((p) => p.id === this.opened.processId)) return `the session process ${this.opened.processId} was ended`;
    if (!node.users[this.opened.userName.toLowerCase()]) return `the principal ${this.opened.userName} was deleted`;
    if (!node.sessions.some((s) => s.id === this.opened.shellId)) return `the JEA session (WinRM shell ${this.opened.shellId}) was ended`;
    return null;
  }

  private async watch(): Promise<void> {
    if (this.endReason !== null) return;
    let reason: string | null;
    try {
      reason = this.brokenBy(await readMachine(this.modelPath));
    } catch {
      return; // A model being replaced right now: look again next time.
    }
    if (reason !== null) await this.finish(reason);
  }

  /** Ends the session once: stops watching, removes what is left of it, resolves `ended`. */
  private async finish(reason: string): Promise<void> {
    if (this.endReason !== null) return;
    this.endReason = reason;
    clearInterval(this.watcher);
    await updateMachine(this.modelPath, (model) => forget(model.nodes[this.opened.nodeKey], this.opened)).catch(() => undefined);
    this.resolveEnded({ reason });
  }

  async close(): Promise<void> {
    await this.finish('closed');
  }

  /**
   * One of our own functions that runs the node agent: its checks refuse before anything runs;
   * otherwise the node's installed agent runs (outside the model lock: it reads and writes the
   * model itself) and its answer is printed.
   */
  private async runAgentFunction(
    f: FunctionDefinition,
    bound: Map<string, string[] | true>,
    onOutput: (stream: JeaOutputStream, text: string) => void,
    signal: AbortSignal,
    refuse: (message: string) => JeaCommandResult,
  ): Promise<JeaCommandResult> {
    const model = await readMachine(this.modelPath);
    const broken = this.brokenBy(model);
    if (broken !== null) {
      await this.finish(broken);
      return { ok: false, error: `The session has ended: ${broken}` };
    }
    const plan = planAgentFunction(f, bound, model.clock.nowUtc, `${this.opened.nodeKey}\\${this.opened.userName}`);
    if ('error' in plan) return refuse(plan.error);
    if (!this.simulator)
      return refuse(`The simulated session cannot start the node agent: ${SIMULATOR_VARIABLE} is not set and no simulator was given.`);
    this.running = true;
    let run: Awaited<ReturnType<typeof runInstalledAgent>>;
    try {
      run = await runInstalledAgent(this.modelPath, this.opened.nodeKey, plan.argv, this.simulator, signal);
    } finally {
      this.running = false;
    }
    if (signal.aborted) return { ok: false, error: 'The command was cancelled.' };
    if ('missing' in run)
      return refuse(`The node agent is missing (${run.missing}): ask the machine owner to reinstall the ArcRemoteSupport extension.`);
    const answer = agentFunctionAnswer(f, run);
    if ('error' in answer) return refuse(answer.error);
    for (const line of answer.output) onOutput('output', line);
    return { ok: true };
  }

  async run(command: string, onOutput: (stream: JeaOutputStream, text: string) => void, signal: AbortSignal): Promise<JeaCommandResult> {
    if (this.running) throw new Error('A command is still running: run one command at a time');
    if (this.endReason !== null) return { ok: false, error: `The session has ended: ${this.endReason}` };
    if (signal.aborted) return { ok: false, error: 'The command was cancelled.' };
    const refuse = (message: string): JeaCommandResult => {
      onOutput('error', message);
      return { ok: false, error: message };
    };
    const parsed = parseCommandLine(command);
    if ('error' in parsed) return refuse(parsed.error);
    const visible = this.visible.get(parsed.command.toLowerCase());
    if (!visible) return refuse(notRecognized(parsed.command));
    const bound = bindArguments(visible, parsed.tokens);
    if (typeof bound === 'string') return refuse(bound);
    const missing = missingMandatory(visible, bound);
    if (missing) return refuse(missing);
    const own = this.opened.roles.flatMap((role) => role.functionDefinitions).find((f) => sameName(f.name, visible.name) && f.agent);
    if (own) return this.runAgentFunction(own, bound, onOutput, signal, refuse);

    this.running = true;
    const lines: Array<{ stream: JeaOutputStream; text: string }> = [];
    try {
      const broken = await updateMachine(this.modelPath, (model) => {
        const reason = this.brokenBy(model);
        if (reason !== null) return reason;
        runModelCommand(visible.name, {
          node: model.nodes[this.opened.nodeKey]!,
          now: model.clock.nowUtc,
          bound,
          visibleNames: [...this.visible.values()]
            .map((c) => ({ name: c.name, kind: c.kind }))
            .sort((a, b) => a.name.localeCompare(b.name)),
          output: (text) => lines.push({ stream: 'output', text }),
          error: (text) => lines.push({ stream: 'error', text }),
        });
        return null;
      });
      if (broken !== null) {
        await this.finish(broken);
        return { ok: false, error: `The session has ended: ${broken}` };
      }
    } finally {
      this.running = false;
    }
    for (const line of lines) onOutput(line.stream, line.text);
    const firstError = lines.find((line) => line.stream === 'error');
    return firstError ? { ok: false, error: firstError.text } : { ok: true };
  }
}

/**
 * Our own functions' parameters are positional in the order they are declared (an advanced
 * function's default), switches excepted: the first of them not bound yet.
 */
function ownPositional(command: VisibleCommand, bound: Map<string, string[] | true>): string | null {
  for (const p of command.parameters?.values() ?? []) {
    const rule = p.rules[0] as Partial<FunctionParameter> | undefined;
    if (rule?.type === undefined || rule.type === 'switch') continue;
    if (!bound.has(p.name.toLowerCase())) return p.name;
  }
  return null;
}

/** PowerShell's refusal when a mandatory parameter of our own function is not given, or null. */
function missingMandatory(command: VisibleCommand, bound: Map<string, string[] | true>): string | null {
  const missing = [...(command.parameters?.values() ?? [])]
    .filter((p) => p.rules.some((rule) => (rule as Partial<FunctionParameter>).mandatory === true) && !bound.has(p.name.toLowerCase()))
    .map((p) => p.name);
  return missing.length > 0 ? `Cannot process command because of one or more missing mandatory parameters: ${missing.join(' ')}.` : null;
}

/** Binds the tokens to the command's parameters as the JEA proxy would, or says why not. */
function bindArguments(command: VisibleCommand, tokens: readonly Token[]): Map<string, string[] | true> | string {
  const bound = new Map<string, string[] | true>();
  const bindValue = (parameter: string, rules: readonly ParameterRule[] | null, values: readonly string[]): string | null => {
    // A list for a parameter of our own function that takes one value: PowerShell cannot convert it.
    const type = (rules?.[0] as Partial<FunctionParameter> | undefined)?.type;
    if (values.length > 1 && type !== undefined && !type.endsWith('[]')) {
      return `Cannot process argument transformation on parameter '${parameter}'. Cannot convert value to type System.${type === 'int' ? 'Int32' : type === 'long' ? 'Int64' : 'String'}.`;
    }
    for (const value of values) {
      const invalid = rules ? validateValue(parameter, rules, value) : null;
      if (invalid) return invalid;
    }
    bound.set(parameter.toLowerCase(), [...values]);
    return null;
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === 'value') {
      const positional = positionalParameter(command.name) ?? ownPositional(command, bound);
      const target = positional ? bindParameterName(command, positional) : null;
      if (!target || 'error' in target || bound.has(target.name.toLowerCase())) {
        return `A positional parameter cannot be found that accepts argument '${token.text}'.`;
      }
      const invalid = bindValue(target.name, target.rules, token.items);
      if (invalid) return invalid;
      continue;
    }
    const target = bindParameterName(command, token.name);
    if ('error' in target) return target.error;
    if (target.rules?.some((rule) => rule.switch)) {
      bound.set(target.name.toLowerCase(), true);
      continue;
    }
    const next = tokens[i + 1];
    if (!next || next.kind !== 'value') {
      // Without metadata a parameter with no value is taken as a switch (every parameter allowed).
      if (target.rules === null && command.parameters === null) {
        bound.set(target.name.toLowerCase(), true);
        continue;
      }
      return `Missing an argument for parameter '${target.name}'. Specify a parameter of type 'System.String' and try again.`;
    }
    i += 1;
    const invalid = bindValue(target.name, target.rules, next.items);
    if (invalid) return invalid;
  }
  return bound;
}

/** Removes the session's process and shell from the node. */
function forget(node: NodeModel | undefined, opened: Opened): void {
  if (!node) return;
  node.processes = node.processes.filter((p) => p.id !== opened.processId);
  node.sessions = node.sessions.filter((s) => s.id !== opened.shellId);
}
