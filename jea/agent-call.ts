/**
 * How a function of our own runs the node agent (role data `agent:`): the subcommands and flags a
 * role may use (checked by safety.ts), and the call itself, which the generator writes so that role
 * data never holds a program path or a command line.
 */
import { AGENT_NODE, AGENT_SCRIPT } from '../core/node-layout';
import { quote } from './psd1';
import type { AgentCall, FunctionDefinition } from './role-model';

/**
 * The agent commands a support engineer's function may run, each with the flags it may pass.
 * `readOnlyRoles`: a read-only role may show it, because the agent command changes nothing the
 * role protects (request-log-collection hands a fixed-window, fixed-category collection to the
 * SYSTEM agent under the owner's consent; history only reads).
 */
export const ENGINEER_AGENT_COMMANDS: Readonly<Record<string, { flags: readonly string[]; readOnlyRoles: boolean }>> = {
  'request-log-collection': { flags: ['--from', '--to', '--category', '--requested-by'], readOnlyRoles: true },
  history: { flags: ['--json'], readOnlyRoles: true },
};

/** The commands the generated agent call runs besides the agent: path resolution and its errors. */
export const AGENT_CALL_COMMANDS = ['Microsoft.PowerShell.Management\\Convert-Path', 'Microsoft.PowerShell.Utility\\Write-Error'];

/** Every command a function's script runs: those its body declares, and the agent call's. */
export function functionCalls(f: FunctionDefinition): string[] {
  return f.agent ? [...new Set([...f.calls, ...AGENT_CALL_COMMANDS])] : f.calls;
}

/** The flag that carries the connected user: filled by the generated call, never by the body. */
export const REQUESTED_BY_FLAG = '--requested-by';

/**
 * The local variable that holds a flag's value: --from -> agentFrom, --requested-by ->
 * agentRequestedBy. Never a parameter's name (PowerShell names ignore case, and a parameter's
 * variable keeps its validation, so $from would be -From itself).
 */
export function agentVariable(flag: string): string {
  return `agent${flag.replace(/^--/, '').replace(/(^|-)([a-z])/g, (_, _dash: string, letter: string) => letter.toUpperCase())}`;
}

/** Flags that take no value. */
export const AGENT_SWITCH_FLAGS = ['--json'];

/**
 * The one way a function of our own runs the node agent, written here and not in role data: the
 * installed node.exe and agent.js (their full paths, resolved through the file system provider so
 * a test can map C:), the declared subcommand as a constant, then each declared flag as a constant
 * followed by the local the body set from validated parameters. --requested-by is the connected
 * user WinRM authenticated ($PSSenderInfo), never a value the caller passes. The agent's stdout
 * and stderr lines become $agentLines (text), its exit code $agentExitCode. Windows PowerShell 5.1
 * compatible: a caller's -ErrorAction Stop would make the agent's stderr lines stop the function,
 * so the preference is Continue for the call only.
 * The flags' values are written by the body; a role's file never holds this text.
 */
export function renderAgentCall(agent: AgentCall): string {
  const lines: string[] = ['# The node agent, as jea/generate.ts writes it for every function that runs it.'];
  if (agent.arguments.includes(REQUESTED_BY_FLAG)) {
    const user = `$${agentVariable(REQUESTED_BY_FLAG)}`;
    lines.push(
      `${user} = $null`,
      `if ($null -ne $PSSenderInfo) { ${user} = $PSSenderInfo.ConnectedUser }`,
      `if (-not ${user}) {`,
      "    Microsoft.PowerShell.Utility\\Write-Error -Message 'The connected user is unknown: this command runs only in a remote support session of the ArcRemoteSupport endpoint.' -ErrorId 'ConnectedUserUnknown' -Category PermissionDenied",
      '    return',
      '}',
    );
  }
  lines.push(
    `$agentNode = Microsoft.PowerShell.Management\\Convert-Path -LiteralPath ${quote(AGENT_NODE)} -ErrorAction SilentlyContinue`,
    `$agentScript = Microsoft.PowerShell.Management\\Convert-Path -LiteralPath ${quote(AGENT_SCRIPT)} -ErrorAction SilentlyContinue`,
    'if (-not $agentNode -or -not $agentScript) {',
    `    Microsoft.PowerShell.Utility\\Write-Error -Message ${quote(
      `The node agent is missing (${AGENT_NODE}, ${AGENT_SCRIPT}): ask the machine owner to reinstall the ArcRemoteSupport extension.`,
    )} -ErrorId 'NodeAgentMissing' -Category ResourceUnavailable`,
    '    return',
    '}',
  );
  const args = [quote(agent.subcommand)];
  for (const flag of agent.arguments) {
    args.push(quote(flag));
    if (!AGENT_SWITCH_FLAGS.includes(flag)) args.push(`$${agentVariable(flag)}`);
  }
  lines.push(
    '$callerPreference = $ErrorActionPreference',
    "$ErrorActionPreference = 'Continue'",
    `$agentLines = @(foreach ($agentLine in @(& $agentNode $agentScript ${args.join(' ')} 2>&1)) { [string] $agentLine })`,
    '$agentExitCode = $LASTEXITCODE',
    '$ErrorActionPreference = $callerPreference',
  );
  return lines.join('\n');
}
