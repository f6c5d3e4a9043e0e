/**
 * The port for an engineer's channel session: a JEA session on this node, opened as the grant's
 * local principal (core/node-layout.ts channelUserName) in the ArcRemoteSupport endpoint, running
 * one command at a time and streaming its output. The agent uses it; the level comes from the
 * principal's group, so nothing the engineer sends chooses what the session may run.
 *
 * Two adapters: windows/powershell-session.ts (ChannelSession.ps1 in Windows PowerShell) and the
 * simulated machine's (sim/windows/simulated-session.ts).
 */

export interface JeaSessionRequest {
  /** The per-grant local principal, e.g. ArcRS-3f2b8c1e. */
  userName: string;
  /** The JEA endpoint, e.g. ArcRemoteSupport. */
  configurationName: string;
  /** The agent's id for the session (audit records name it). */
  sessionId: string;
}

export type JeaOutputStream = 'output' | 'error';

export interface JeaCommandResult {
  /** False when the command wrote an error, was refused, failed or was cancelled. */
  ok: boolean;
  /** Why it failed, when a single message says it (a refusal, a terminating error, a cancel). */
  error?: string;
}

export interface JeaSession {
  /** The session process (Windows pid; the simulated process id), for audit and cleanup. */
  readonly processId: number;
  /** Runs one command; `onOutput` gets each line of its output as it comes, without the line end. */
  run(command: string, onOutput: (stream: JeaOutputStream, text: string) => void, signal: AbortSignal): Promise<JeaCommandResult>;
  /** Ends the session and its process; resolves when the process is gone (kills after a short grace). */
  close(): Promise<void>;
  /**
   * Resolves when the session ended by itself (process exited or was killed from outside: Expire
   * task, principal deleted). After close() it resolves too, with reason 'closed'.
   */
  readonly ended: Promise<{ reason: string }>;
}

export interface JeaSessionLauncher {
  /** Opens the JEA session as the principal; rejects with a clear Error (no secret) when it cannot. */
  open(request: JeaSessionRequest): Promise<JeaSession>;
}

/** The session script's file name, in the package's scripts folder (endChannelSessionProcesses finds its processes by it). */
export const CHANNEL_SESSION_SCRIPT = 'ChannelSession.ps1';
