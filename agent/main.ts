/**
 * The node agent's entry: `node.exe agent.js <command>` (commands.ts), started by the scheduled
 * tasks from the stable agent folder (SYSTEM), and by the owner's module (an elevated owner).
 * Exit code 0 on success.
 */
import { existsSync } from 'fs';
import path from 'path';
import { composeNode } from '../handlers/compose';
import { runAgentCommand } from './commands';
import { channelCommand } from './channel/channel-command';
import { collectLogsCommand } from './diag/collect-logs-command';

/** The folder whose `scripts` holds the node's PowerShell: beside agent.js, or one up (bin/ in the package). */
function agentRoot(): string {
  return existsSync(path.join(__dirname, 'scripts')) ? __dirname : path.dirname(__dirname);
}

async function main(): Promise<number> {
  const binding = await composeNode(process.env, agentRoot());
  const argv = process.argv.slice(2);
  const now = (await binding.clock?.()) ?? new Date();
  const result =
    argv[0] === 'channel'
      ? await channelCommand(argv.slice(1), binding, process.env)
      : argv[0] === 'collect-logs'
        ? binding.logCollection
          ? await collectLogsCommand(argv.slice(1), {
              host: binding.host,
              adapters: binding.logCollection,
              clock: binding.clock ?? (async () => new Date()),
            })
          : { exitCode: 1, output: 'collect-logs: this node has no log source reader.' }
        : await runAgentCommand(argv, binding.host, now);
  const stream = result.stream ?? (result.exitCode === 0 ? 'stdout' : 'stderr');
  (stream === 'stdout' ? process.stdout : process.stderr).write(`${result.output}\n`);
  return result.exitCode;
}

main().then(
  (exitCode) => {
    process.exitCode = exitCode;
  },
  (error: unknown) => {
    process.stderr.write(`agent failed: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
