/**
 * The session layer's command executor over the node's JEA session: the session process opens at
 * the first command (as the grant's account, in the level's group: the level is the node's), one
 * at a time across the agent because opening sets the account's password afresh, and closes when
 * the engineer's session ends. The session also ends when its process dies or is ended from
 * outside (the Expire task, the account deleted).
 */
import type { CommandExecutor, CommandResult } from '../../channel/session/session-host';
import type { OutputStream } from '../../channel/session/protocol';
import type { JeaSession, JeaSessionLauncher } from '../../windows/jea-session';

let opening: Promise<unknown> = Promise.resolve();

export class JeaCommandExecutor implements CommandExecutor {
  private session: Promise<JeaSession> | undefined;
  private closed = false;

  constructor(
    private readonly launcher: JeaSessionLauncher,
    private readonly request: { userName: string; configurationName: string; sessionId: string },
    /** Called once if the session process ends by itself. */
    private readonly onEnded: (reason: string) => void,
  ) {}

  get processId(): Promise<number | null> {
    return this.session ? this.session.then((s) => s.processId).catch(() => null) : Promise.resolve(null);
  }

  async run(command: string, onOutput: (stream: OutputStream, text: string) => void, signal: AbortSignal): Promise<CommandResult> {
    if (this.closed) return { ok: false, error: 'The session has ended.' };
    let session: JeaSession;
    try {
      session = await this.open();
    } catch (error) {
      return { ok: false, error: `The node could not open the JEA session: ${(error as Error).message}` };
    }
    // The JEA session gives whole lines without their ends; the engineer's screen needs them.
    return session.run(command, (stream, text) => onOutput(stream, `${text}\n`), signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = await this.session?.catch(() => undefined);
    await session?.close();
  }

  private open(): Promise<JeaSession> {
    if (!this.session) {
      const opened = opening.then(() => this.launcher.open(this.request));
      opening = opened.catch(() => undefined);
      this.session = opened;
      opened.then(
        (session) => void session.ended.then(({ reason }) => this.onEnded(reason)),
        () => undefined,
      );
    }
    return this.session;
  }
}
