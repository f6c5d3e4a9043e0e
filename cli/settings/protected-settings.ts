/**
 * Protected settings are write-only in Azure: it never returns them, so every update must send
 * them again. They come from `--protected-settings-file`, are never printed, and are redacted
 * from what-if output and error messages.
 */
import { promises as fs } from 'fs';
import { InputError } from '../errors';

export const REDACTED = '<redacted>';

export class ProtectedSettings {
  private constructor(
    private readonly values: Record<string, unknown>,
    private readonly secrets: string[],
  ) {}

  static async fromFile(file: string): Promise<ProtectedSettings> {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      throw new InputError(
        '--protected-settings-file',
        file,
        `The file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a JSON file holding one object.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch {
      // The parser's message can quote the file's content: it is not repeated here.
      throw new InputError('--protected-settings-file', file, 'The file is not valid JSON; it must hold one JSON object.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InputError('--protected-settings-file', file, 'The file must hold one JSON object (not an array or a single value).');
    }
    return new ProtectedSettings(parsed as Record<string, unknown>, collectSecrets(parsed));
  }

  static empty(): ProtectedSettings {
    return new ProtectedSettings({}, []);
  }

  /** These settings with one more section (the grant's channel); `secrets` are its values never to be shown. */
  withSection(name: string, value: Record<string, unknown>, secrets: string[]): ProtectedSettings {
    const all = [...new Set([...this.secrets, ...secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)])])];
    return new ProtectedSettings(
      { ...this.values, [name]: value },
      all.sort((a, b) => b.length - a.length),
    );
  }

  /** The object for the request body; nothing else should hold on to it. */
  forRequest(): Record<string, unknown> {
    return structuredClone(this.values);
  }

  /** Removes every secret value from text (error messages from Azure can echo a request). */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join(REDACTED);
    return result;
  }
}

/** Strings and numbers long enough to be recognisable; longest first so none is left half-replaced. */
function collectSecrets(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string' && value.length >= 4) found.push(value, JSON.stringify(value).slice(1, -1));
  else if (typeof value === 'number' && String(value).length >= 4) found.push(String(value));
  else if (Array.isArray(value)) value.forEach((item) => collectSecrets(item, found));
  else if (typeof value === 'object' && value !== null) Object.values(value).forEach((item) => collectSecrets(item, found));
  return [...new Set(found)].sort((a, b) => b.length - a.length);
}

/** A request body with its protected settings replaced, for what-if and logs. */
export function redactRequestBody(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return body;
  const copy = structuredClone(body) as { properties?: Record<string, unknown> };
  if (copy.properties && 'protectedSettings' in copy.properties) copy.properties.protectedSettings = REDACTED;
  return copy;
}
