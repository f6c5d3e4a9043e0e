/**
 * `connect`: the engineer's side. Reads the access ticket, picks the node, opens the session over
 * the relay, then runs one command (--command) or a prompt loop. Every failure is said in words
 * (session-words.ts) with an exit code a script can branch on; tokens are never printed.
 */
import path from 'path';
import readline from 'readline';
import { EngineerSession, type EngineerCommandResult } from '../../channel/session/engineer-session';
import type { OutputStream } from '../../channel/session/protocol';
import { readAccessTicket, TicketFileError, type AccessTicket } from '../channel/access-ticket';
import { InputError } from '../errors';
import { ExitCode } from '../exit-codes';
import type { ResolvedIo } from '../io';
import { explainEnd, explainOpenFailure, type Explained } from './session-words';

type Printer = ReturnType<typeof printer>;

export async function runConnect(options: Record<string, unknown>, io: ResolvedIo): Promise<number> {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const format = (text('output') ?? 'text').toLowerCase();
  if (format !== 'text' && format !== 'json') throw new InputError('--output', text('output'), 'Accepted formats: text, json.');
  const out = printer(io, format === 'json');
  const file = text('ticket');
  if (!file) throw new InputError('--ticket', undefined, "Give the access ticket file the machine's owner sent you: --ticket <file>.");

  let ticket: AccessTicket;
  try {
    ticket = await readAccessTicket(path.resolve(io.cwd, file), io.now());
  } catch (error) {
    if (error instanceof TicketFileError) return out.fail({ kind: 'ticket-file', message: error.message }, ExitCode.BadInput);
    throw error;
  }
  const node = chooseNode(ticket, text('node'));
  const entry = ticket.nodes[node]!;

  let session: EngineerSession;
  try {
    session = await EngineerSession.open({
      endpoint: { namespace: ticket.relayNamespace, name: entry.hybridConnection },
      sendToken: entry.sendToken,
      ticket: entry.ticket,
      transport: {
        ...(io.relayCa ? { ca: io.relayCa } : {}),
        proxy: { env: io.env, arcAgentConfigFile: null },
      },
    });
  } catch (error) {
    return out.fail(
      explainOpenFailure(error, { namespace: ticket.relayNamespace, hybridConnection: entry.hybridConnection, node }),
      ExitCode.NoSession,
    );
  }
  out.ready(session);
  const command = text('command');
  try {
    return command !== undefined ? await runOne(session, command, out) : await promptLoop(session, io, out);
  } finally {
    session.close();
  }
}

function chooseNode(ticket: AccessTicket, wanted: string | undefined): string {
  const nodes = Object.keys(ticket.nodes);
  if (wanted === undefined) {
    if (nodes.length === 1) return nodes[0]!;
    throw new InputError(
      '--node',
      undefined,
      `The ticket is for ${nodes.length} nodes of ${ticket.machine}; choose one: --node ${nodes.join(' | --node ')}.`,
    );
  }
  const found = nodes.find((node) => node.toLowerCase() === wanted.toLowerCase());
  if (!found) throw new InputError('--node', wanted, `The ticket for ${ticket.machine} names only ${nodes.join(', ')}; give one of those.`);
  return found;
}

async function runOne(session: EngineerSession, command: string, out: Printer): Promise<number> {
  const result = await session.run(command, out.output);
  out.done(result);
  const ended = await Promise.race([session.ended, Promise.resolve(undefined)]);
  if (ended && !result.ok) return out.fail(explainEnd(ended), ExitCode.NoSession);
  return result.ok ? ExitCode.Success : ExitCode.Unexpected;
}

/** The prompt: one command at a time; Ctrl+C cancels the running one, twice at idle ends. */
async function promptLoop(session: EngineerSession, io: ResolvedIo, out: Printer): Promise<number> {
  const input = io.stdin ?? process.stdin;
  const rl = readline.createInterface({
    input,
    output: out.json ? undefined : io.stdout,
    terminal: input.isTTY === true,
    prompt: out.json ? '' : promptOf(session),
  });
  let running = false;
  let interruptedAtIdle = false;
  let endedBy: Explained | undefined;
  const onInterrupt = () => {
    if (running) {
      out.note('Cancelling the command (the session stays open)...');
      session.cancel();
      return;
    }
    if (interruptedAtIdle) return rl.close();
    interruptedAtIdle = true;
    out.note('Press Ctrl+C again to end the session, or type exit.');
    rl.prompt();
  };
  const signals = io.signals ?? process;
  rl.on('SIGINT', onInterrupt);
  signals.on('SIGINT', onInterrupt);
  void session.ended.then((end) => {
    endedBy = explainEnd(end);
    rl.close();
  });
  try {
    rl.prompt();
    for await (const line of rl) {
      interruptedAtIdle = false;
      const command = line.trim();
      if (command === 'exit' || command === 'quit') break;
      if (command) {
        running = true;
        const result = await session.run(command, out.output);
        running = false;
        if (!endedBy) out.done(result);
      }
      if (endedBy) break;
      rl.prompt();
    }
  } finally {
    signals.removeListener('SIGINT', onInterrupt);
    rl.close();
  }
  // Give a just-arrived end frame its moment: revoke sends `ended` then closes.
  const end =
    endedBy ??
    (await Promise.race([session.ended.then(explainEnd), new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]));
  if (end && end.kind !== 'closed') return out.fail(end, ExitCode.NoSession);
  return ExitCode.Success;
}

function promptOf(session: EngineerSession): string {
  return `[${session.ready.machine} ${session.ready.node} ${session.ready.level}]> `;
}

function printer(io: ResolvedIo, json: boolean) {
  const line = (value: Record<string, unknown>) => void io.stdout.write(`${JSON.stringify(value)}\n`);
  let lastChar = '\n';
  return {
    json,
    ready(session: EngineerSession) {
      const { level, node, machine, sessionId, expiresAt } = session.ready;
      if (json) return line({ type: 'ready', machine, node, level, sessionId, expiresAt });
      io.stderr.write(`Connected to ${machine} node ${node} at level ${level} until ${expiresAt} (session ${sessionId}).\n`);
    },
    output(stream: OutputStream, text: string) {
      if (json) return line({ type: 'out', stream, text });
      (stream === 'output' ? io.stdout : io.stderr).write(
        stream === 'output' || stream === 'error' ? text : `${stream.toUpperCase()}: ${text}`,
      );
      if (text) lastChar = text.slice(-1);
    },
    done(result: EngineerCommandResult) {
      if (json)
        return line({
          type: 'done',
          ok: result.ok,
          ...(result.error ? { error: result.error } : {}),
          ...(result.rejected ? { rejected: result.rejected } : {}),
        });
      if (lastChar !== '\n') io.stdout.write('\n');
      lastChar = '\n';
      if (!result.ok)
        io.stderr.write(
          `${result.rejected ? `Not run (${result.rejected})` : 'Failed'}: ${result.error ?? 'the command did not succeed'}\n`,
        );
    },
    note(text: string) {
      if (!json) io.stderr.write(`\n${text}\n`);
    },
    fail(explained: Explained, code: number): number {
      if (json)
        line({
          type: explained.kind === 'revoked' || explained.kind === 'expired' || explained.kind === 'connection-closed' ? 'ended' : 'error',
          kind: explained.kind,
          message: explained.message,
        });
      else io.stderr.write(`arc-remote-support connect: ${explained.message}\n`);
      return code;
    },
  };
}
