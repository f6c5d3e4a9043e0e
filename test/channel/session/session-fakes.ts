/** A socket and an executor the session host can be driven through without a network or PowerShell. */
import type { CommandExecutor, CommandResult, SessionSocket } from '../../../channel/session/session-host';
import type { OutputStream } from '../../../channel/session/protocol';

export class FakeSocket implements SessionSocket {
  /** Every frame the node sent, parsed, in order. */
  readonly sent: any[] = [];
  readonly raw: string[] = [];
  closed: { code: number; reason: string } | undefined;
  private messageListener: ((data: string | Uint8Array, isBinary: boolean) => void) | undefined;
  private closeListener: (() => void) | undefined;

  send(text: string): void {
    if (this.closed) throw new Error('send after close');
    this.raw.push(text);
    this.sent.push(JSON.parse(text));
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }

  onMessage(listener: (data: string | Uint8Array, isBinary: boolean) => void): void {
    this.messageListener = listener;
  }

  onClose(listener: () => void): void {
    this.closeListener = listener;
  }

  /** The engineer sends a frame: an object as JSON text, a string as is, or bytes as a binary frame. */
  deliver(frame: object | string | Buffer): void {
    if (Buffer.isBuffer(frame)) this.messageListener!(frame, true);
    else this.messageListener!(typeof frame === 'string' ? frame : JSON.stringify(frame), false);
  }

  /** The engineer (or the relay) closes the connection. */
  peerClose(): void {
    this.closed ??= { code: 1000, reason: 'peer' };
    this.closeListener!();
  }

  last(): any {
    return this.sent[this.sent.length - 1];
  }

  ofType(type: string): any[] {
    return this.sent.filter((frame) => frame.type === type);
  }
}

interface PendingRun {
  command: string;
  onOutput: (stream: OutputStream, text: string) => void;
  signal: AbortSignal;
  finish: (result: CommandResult) => void;
}

/** Commands stay running until the test finishes them; an abort finishes them as PowerShell would, stopped. */
export class FakeExecutor implements CommandExecutor {
  readonly commands: string[] = [];
  readonly pending: PendingRun[] = [];
  /** When set, every command answers at once with this output. */
  instant: { output: string } | undefined;

  run(command: string, onOutput: (stream: OutputStream, text: string) => void, signal: AbortSignal): Promise<CommandResult> {
    this.commands.push(command);
    if (this.instant) {
      onOutput('output', this.instant.output);
      return Promise.resolve({ ok: true });
    }
    return new Promise((resolve) => {
      const run: PendingRun = { command, onOutput, signal, finish: resolve };
      this.pending.push(run);
      signal.addEventListener('abort', () => resolve({ ok: false, error: 'The pipeline was stopped.' }));
    });
  }

  get current(): PendingRun {
    return this.pending[this.pending.length - 1]!;
  }
}

/** Waits until the condition holds (promises and crypto settle on later turns), at most `timeoutMs` of real time. */
export async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export const settle = async (turns = 20) => {
  for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
};
