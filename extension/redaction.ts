/**
 * Keeps secrets out of everything the handler writes. Secrets are registered as soon as they are
 * known (the protected settings' ciphertext and every string inside the decrypted settings) and
 * replaced wherever they appear; values of keys whose names say "secret" are replaced too.
 */
export const REDACTED = '[redacted]';

const SECRET_KEY = /pass(word)?|secret|token|key|credential|protected/i;
/** Shorter strings are too likely to occur by chance to be worth hiding (and would shred logs). */
const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a secret value, or every string found inside a secret object. */
  add(secret: unknown): void {
    if (typeof secret === 'string') {
      if (secret.length >= MIN_SECRET_LENGTH) this.secrets.add(secret);
    } else if (Array.isArray(secret)) {
      secret.forEach((item) => this.add(item));
    } else if (typeof secret === 'object' && secret !== null) {
      Object.values(secret).forEach((item) => this.add(item));
    } else if (typeof secret === 'number' && String(secret).length >= MIN_SECRET_LENGTH) {
      this.secrets.add(String(secret));
    }
  }

  redact(text: string): string {
    let result = text;
    // Longest first, so a secret that contains another is hidden whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
      result = result.split(secret).join(REDACTED);
    }
    return result;
  }

  /** A copy of a value safe to log: registered secrets and secret-named keys hidden. */
  redactValue(value: unknown, key = ''): unknown {
    if (key && SECRET_KEY.test(key) && value !== undefined && value !== null) return REDACTED;
    if (typeof value === 'string') return this.redact(value);
    if (Array.isArray(value)) return value.map((item) => this.redactValue(item));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, this.redactValue(item, name)]));
    }
    return value;
  }
}
