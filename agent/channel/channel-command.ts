/**
 * `agent channel`: runs the channel service over the node's adapters until no grant is in force
 * (exit 0) or the agent is stopped (SIGTERM, SIGINT: sessions end as closed). The relay's
 * certificate authority may be extended for a test relay with NODE_EXTRA_CA_CERTS, as for any
 * Node program; the proxy comes from the Arc agent's configuration or HTTPS_PROXY.
 */
import type { NodeAdapters } from '../../handlers/compose';
import { MAX_SESSIONS_PER_GRANT } from '../../channel/session/protocol';
import { op } from '../../windows/operations';
import type { AgentResult } from '../commands';
import { runChannelService } from './channel-service';

export const POLL_VARIABLE = 'ARC_REMOTE_SUPPORT_CHANNEL_POLL_MS';
export const MAX_SESSIONS_VARIABLE = 'ARC_REMOTE_SUPPORT_CHANNEL_MAX_SESSIONS';

export interface ChannelTuning {
  pollMs: number;
  maxSessionsPerGrant: number;
}

/** The node-side tuning from the environment, or the message that names the bad variable and the fix. */
export function channelTuning(environment: NodeJS.ProcessEnv): ChannelTuning | { error: string } {
  const pollText = environment[POLL_VARIABLE];
  const pollMs = pollText === undefined ? 1000 : Number(pollText);
  if (!Number.isInteger(pollMs) || pollMs < 50 || pollMs > 5000)
    return { error: `${POLL_VARIABLE} is ${JSON.stringify(pollText)}; give whole milliseconds from 50 to 5000 (default 1000).` };
  const sessionsText = environment[MAX_SESSIONS_VARIABLE];
  // Plain digits only: Number('') is 0 and Number(' 3 ') is 3.
  const maxSessionsPerGrant =
    sessionsText === undefined ? MAX_SESSIONS_PER_GRANT : /^\d{1,2}$/.test(sessionsText) ? Number(sessionsText) : 0;
  if (maxSessionsPerGrant < 1 || maxSessionsPerGrant > 10)
    return {
      error: `${MAX_SESSIONS_VARIABLE} is ${JSON.stringify(sessionsText)}; give a whole number of open sessions per grant from 1 to 10 (default ${MAX_SESSIONS_PER_GRANT}).`,
    };
  return { pollMs, maxSessionsPerGrant };
}

export async function channelCommand(argv: string[], binding: NodeAdapters, environment: NodeJS.ProcessEnv): Promise<AgentResult> {
  if (argv.length > 0) return { exitCode: 2, output: `channel takes no arguments; received ${JSON.stringify(argv.join(' '))}.` };
  const tuning = channelTuning(environment);
  if ('error' in tuning) return { exitCode: 2, output: tuning.error };
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    return await runChannelService({
      host: binding.host,
      sessions: binding.sessions,
      readFile:
        binding.readNodeFile ??
        (async (path) => {
          const [read] = await binding.host.execute([op('readFile', { path })], { phase: 'channel: watch' });
          if (!read?.ok) throw new Error(read ? read.error.message : 'no result');
          return (read.value as { content: string | null }).content;
        }),
      clock: binding.clock ?? (async () => new Date()),
      pollMs: tuning.pollMs,
      maxSessionsPerGrant: tuning.maxSessionsPerGrant,
      log: (line) => process.stderr.write(`${line}\n`),
      signal: stop.signal,
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
