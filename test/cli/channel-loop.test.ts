/**
 * The whole channel loop (test/support/channel-loop.ts) with the simulated Windows's sessions
 * (sim/windows/simulated-session.ts): what the engineer sees comes from the machine model, in
 * Windows PowerShell 5.1's words. test/cli/channel-loop-pwsh.test.ts runs the same loop with the
 * package's session script in the real pwsh.
 */
import { describeChannelLoop } from '../support/channel-loop';

jest.setTimeout(120_000);

describeChannelLoop({
  title: 'the whole channel loop: grant, the node listening, connect, a refusal, revoke, status and history',
  // Get-Service's table, as the simulated session formats it.
  serviceLine: /^Running\s+WinRM\s+Windows Remote Management/,
  refusal: /\nFailed: The term 'Restart-Service' is not recognized as the name of a cmdlet/,
});
