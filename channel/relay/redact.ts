/**
 * Keeps relay secrets out of every message the channel produces. A SAS token is only secret
 * through its signature, and it can appear as `sig=…` (a token or header), `sig%3D…` (a token
 * URL-encoded in a query) or a whole `sb-hc-token=…` query value; proxy credentials appear as the
 * user-info of a URL. Known secrets (the current token, a key) can be passed in as well.
 */
export const REDACTED = '[redacted]';

const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/(sb-hc-token=)[^&\s"'<>]*/gi, `$1${REDACTED}`],
  [/(sb-hc-token%3D)(?:(?!%26)[^&\s"'<>])*/gi, `$1${REDACTED}`],
  [/(sig=)[^&\s"'<>]*/gi, `$1${REDACTED}`],
  [/(sig%3D)(?:(?!%26)[^&\s"'<>])*/gi, `$1${REDACTED}`],
  [/(ServiceBusAuthorization["']?\s*[:=]\s*["']?)[^"'\r\n,}]*/gi, `$1${REDACTED}`],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s"'<>]+@/gi, `$1${REDACTED}@`],
];

export function redactSecrets(text: string, known: ReadonlyArray<string | undefined> = []): string {
  let result = text;
  for (const secret of known) {
    if (secret && secret.length >= 4) {
      result = result.split(secret).join(REDACTED);
      const encoded = encodeURIComponent(secret);
      if (encoded !== secret) result = result.split(encoded).join(REDACTED);
    }
  }
  for (const [pattern, replacement] of PATTERNS) result = result.replace(pattern, replacement);
  return result;
}
