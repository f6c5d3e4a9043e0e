/**
 * `agent channel` reads its node-side tuning from the environment: the poll interval and the open
 * sessions a grant may have. A bad value is refused before anything listens, naming the variable.
 */
import { channelCommand, channelTuning } from '../../agent/channel/channel-command';
import { runChannelService } from '../../agent/channel/channel-service';
import type { NodeAdapters } from '../../handlers/compose';

jest.mock('../../agent/channel/channel-service', () => ({
  runChannelService: jest.fn(async () => ({ exitCode: 0, output: 'channel: no grant in force; not listening.' })),
}));

const VARIABLE = 'ARC_REMOTE_SUPPORT_CHANNEL_MAX_SESSIONS';
// The command only hands the adapters on; the service that would use them is mocked.
const binding = { host: {}, sessions: {} } as unknown as NodeAdapters;

describe('agent channel: ARC_REMOTE_SUPPORT_CHANNEL_MAX_SESSIONS', () => {
  beforeEach(() => jest.mocked(runChannelService).mockClear());

  it('allows 2 open sessions per grant when the variable is not set', () => {
    expect(channelTuning({})).toEqual({ pollMs: 1000, maxSessionsPerGrant: 2 });
  });

  it.each([
    ['1', 1],
    ['5', 5],
    ['10', 10],
  ])('takes %s as %i sessions and gives it to the channel service', async (text, sessions) => {
    expect(channelTuning({ [VARIABLE]: text })).toEqual({ pollMs: 1000, maxSessionsPerGrant: sessions });
    const result = await channelCommand([], binding, { [VARIABLE]: text });
    expect(result.exitCode).toBe(0);
    expect(jest.mocked(runChannelService).mock.calls[0]![0]).toMatchObject({ maxSessionsPerGrant: sessions, pollMs: 1000 });
  });

  it.each(['0', '11', '2.5', '-1', '', ' 3', '3 ', 'five', '1e1', '0x5'])('refuses %j with a message naming the variable', async (text) => {
    const result = await channelCommand([], binding, { [VARIABLE]: text });
    expect(result.exitCode).toBe(2);
    expect(result.output).toBe(
      `${VARIABLE} is ${JSON.stringify(text)}; give a whole number of open sessions per grant from 1 to 10 (default 2).`,
    );
    expect(runChannelService).not.toHaveBeenCalled();
  });

  it('still refuses a bad poll interval first, by its own name', async () => {
    const result = await channelCommand([], binding, { ARC_REMOTE_SUPPORT_CHANNEL_POLL_MS: '10', [VARIABLE]: '5' });
    expect(result).toMatchObject({ exitCode: 2, output: expect.stringMatching(/^ARC_REMOTE_SUPPORT_CHANNEL_POLL_MS is "10"/) });
    expect(runChannelService).not.toHaveBeenCalled();
  });
});
