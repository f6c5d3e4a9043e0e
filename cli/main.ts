/**
 * arc-remote-support: the control plane CLI. `runCli` is the whole program with its outside world
 * and the extension it deploys passed in; `main` calls it with the process's and the identity the
 * build baked in. This file is the entry of the CLI bundle (scripts/build/bundle-cli.ts). Parsing
 * and input checks load nothing from Azure; the SDK and identity packages load only when a command runs.
 */
import { CommanderError } from 'commander';
import { isCliError } from './errors';
import { ExitCode } from './exit-codes';
import { bakedExtensionIdentity, type CliExtensionIdentity } from './extension-identity';
import { toInvocation } from './invocation';
import { resolveIo, type CliIo } from './io';
import { buildProgram, type RawCommandLine } from './program';

export type { CliIo } from './io';

export async function runCli(argv: string[], io: CliIo, identity: CliExtensionIdentity): Promise<number> {
  const resolved = resolveIo(io);
  try {
    let line: RawCommandLine | undefined;
    const output = { writeOut: (text: string) => void io.stdout.write(text), writeErr: (text: string) => void io.stderr.write(text) };
    const program = buildProgram(identity.version, output, (chosen) => {
      line = chosen;
    });
    try {
      await program.parseAsync(argv, { from: 'user' });
    } catch (error) {
      if (error instanceof CommanderError) {
        // Help and version end with 0; anything else commander refused is bad input.
        return error.exitCode === 0 ? ExitCode.Success : ExitCode.BadInput;
      }
      throw error;
    }
    if (!line) {
      program.outputHelp({ error: true });
      return ExitCode.BadInput;
    }
    // The engineer's connect and the owner's ticket are not fleet commands: their own runners,
    // loaded lazily like run-invocation below (they bring the relay client and the Azure SDK).
    if (line.command === 'connect') {
      const { runConnect } = require('./connect/run-connect') as typeof import('./connect/run-connect');
      return await runConnect(line.options, resolved);
    }
    if (line.command === 'ticket') {
      const { runTicket } = require('./ticket/run-ticket') as typeof import('./ticket/run-ticket');
      return await runTicket(line.options, resolved);
    }
    const invocation = toInvocation(line, resolved.env);
    // Evaluated only now: it brings the Azure SDK. require() keeps it a lazily initialised module
    // inside the CommonJS bundle (and under jest's CommonJS transform).
    const { executeInvocation } = require('./run-invocation') as typeof import('./run-invocation');
    return await executeInvocation(invocation, resolved, identity);
  } catch (error) {
    if (isCliError(error)) {
      io.stderr.write(`arc-remote-support: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`arc-remote-support: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return ExitCode.Unexpected;
  }
}

/** Runs as the process: exit code set, streams flushed by Node on exit. */
export async function main(): Promise<void> {
  let identity: CliExtensionIdentity;
  try {
    identity = bakedExtensionIdentity();
  } catch (error) {
    process.stderr.write(`arc-remote-support: ${(error as Error).message}\n`);
    process.exitCode = ExitCode.Unexpected;
    return;
  }
  process.exitCode = await runCli(
    process.argv.slice(2),
    { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd() },
    identity,
  );
}

// The bundle run as a program starts here; importing it (tests, the repository's bin/) does not.
if (require.main === module) void main();
