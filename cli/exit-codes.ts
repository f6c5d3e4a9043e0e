/**
 * The CLI's exit codes. Scripts branch on them, so they are part of the interface: documented in
 * `--help` and in the README, and never reused for something else.
 */
export const ExitCode = {
  /** Every target succeeded. */
  Success: 0,
  /** Something unexpected (a bug, or an answer from Azure the CLI does not understand). */
  Unexpected: 1,
  /** Bad input: an option or target was wrong and nothing was sent for it. */
  BadInput: 2,
  /** Some targets succeeded and some failed (see the result table and the journal). */
  PartialFailure: 3,
  /** Every target failed. */
  AllFailed: 4,
  /** No Azure credential could be obtained. */
  NoCredential: 5,
  /** connect: no session (nobody listening, ticket refused, relay unreachable) or it ended by revoke or expiry. */
  NoSession: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0  every target succeeded',
  '  1  unexpected error',
  '  2  bad input (nothing was sent for it)',
  '  3  partial failure: some targets failed (see the table and the journal; rerun with --resume)',
  '  4  every target failed',
  '  5  no Azure credential (az login, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or a managed identity)',
  '  6  connect only: no session, or the session ended by revoke or expiry (see connect --help)',
].join('\n');
