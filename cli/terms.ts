/**
 * The terms the machine's owner accepts before a support engineer gets access. The version is
 * recorded in every grant (`consent.termsVersion`); change it whenever the text changes.
 */
export const TERMS_VERSION = '2026.1';

export function termsText(details: {
  level: string;
  machines?: number;
  duration: string;
  expiresAt: string;
  supportRequestId: string;
}): string {
  return [
    `Remote support terms, version ${TERMS_VERSION}`,
    '',
    `You are about to give support engineers ${details.level} access to ${details.machines === undefined ? 'the selected machines' : `${details.machines} machine(s)`}`,
    `for support request ${details.supportRequestId}, for ${details.duration} from your acceptance (until about ${details.expiresAt} UTC).`,
    '',
    '- Engineers listed in the local group "ArcRemoteSupport Engineers" can open restricted',
    '  PowerShell (JEA) sessions on these machines, limited to the commands of that level.',
    '- Every session is recorded: transcripts and access history stay on the machine for the',
    "  retention period and can be read by the machine's administrators.",
    '- Access ends by itself at the expiry time; you can end it earlier with `arc-remote-support revoke`.',
    '- Your identity and the time you accepted are recorded with the grant.',
  ].join('\n');
}
