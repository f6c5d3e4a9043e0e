/**
 * Processes of a simulated node: the channel's session processes, which the simulated session
 * launcher records while a session is open. Semantics both simulated hosts share:
 * - endChannelSessionProcesses ends every process whose command line names the script file
 *   `scriptName` as a whole file name (after a path separator, a quote, a space or at the start;
 *   followed by a quote, a space or the end), without regard to case; `ended` is their ids,
 *   ascending; none -> `ended: []`;
 * - `scriptName` must be a plain .ps1 file name (letters, digits, . _ -) -> otherwise InvalidRequest.
 */
import type { OperationCatalog } from '../../windows/operations';
import type { NodeContext } from './file-system';
import { OperationFailure } from './operation-failure';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

const SCRIPT_NAME = /^[A-Za-z0-9_.-]+\.ps1$/i;

/** Whether `commandLine` runs the script file `scriptName` (a plain file name). */
export function runsScript(commandLine: string, scriptName: string): boolean {
  const escaped = scriptName.replace(/[.]/g, '\\.');
  return new RegExp(`(^|[\\\\/"' ])${escaped}(["' ]|$)`, 'i').test(commandLine);
}

export function endChannelSessionProcesses(
  ctx: NodeContext,
  request: Request<'endChannelSessionProcesses'>,
): Result<'endChannelSessionProcesses'> {
  if (!SCRIPT_NAME.test(request.scriptName)) {
    throw new OperationFailure(
      'InvalidRequest',
      `'${request.scriptName}' is not a script file name: give the session script's file name, such as ChannelSession.ps1`,
      request.scriptName,
    );
  }
  const ended = ctx.node.processes.filter((process) => runsScript(process.commandLine, request.scriptName)).map((process) => process.id);
  ctx.node.processes = ctx.node.processes.filter((process) => !ended.includes(process.id));
  return { ended: ended.sort((a, b) => a - b) };
}
