import type { ErrorObject, ValidateFunction } from 'ajv';
import { ConfigurationError, describeValue } from './errors';

type JsonSchema = { description?: string; properties?: Record<string, JsonSchema> } & Record<string, unknown>;

/**
 * Checks public settings with a validator generated from the extension's JSON Schema and turns the
 * first violation into a ConfigurationError naming the field, the value received and what is
 * accepted. "What is accepted" is the schema's own `description` of that field, so the schema is
 * the one place where the settings contract is written down.
 */
export class SettingsSchema {
  constructor(
    private readonly validate: ValidateFunction,
    private readonly schema: JsonSchema,
  ) {}

  check(settings: unknown): void {
    if (this.validate(settings)) return;
    const error = (this.validate.errors ?? [])[0];
    if (!error) throw new ConfigurationError('publicSettings', describeValue(settings), 'settings matching the extension schema');
    throw this.toConfigurationError(error);
  }

  private toConfigurationError(error: ErrorObject): ConfigurationError {
    const path = instancePathParts(error.instancePath);
    switch (error.keyword) {
      case 'required': {
        const missingPath = [...path, String(error.params.missingProperty)];
        const accepted = this.describe(missingPath) ?? 'see the settings schema';
        return new ConfigurationError(missingPath.join('.'), describeValue(undefined), `${accepted} (required here)`);
      }
      case 'additionalProperties': {
        const extraPath = [...path, String(error.params.additionalProperty)];
        const known = Object.keys(this.nodeAt(path)?.properties ?? {}).join(', ');
        const where = path.length > 0 ? ` of '${path.join('.')}'` : '';
        return new ConfigurationError(
          extraPath.join('.'),
          'a property this extension does not know',
          `the properties${where} are ${known}; check the spelling`,
        );
      }
      default: {
        const accepted = this.describe(path) ?? error.message ?? 'see the settings schema';
        return new ConfigurationError(path.join('.') || 'publicSettings', describeValue(error.data), accepted);
      }
    }
  }

  private describe(path: string[]): string | undefined {
    return this.nodeAt(path)?.description;
  }

  /** Walks `properties` of the schema along a settings path (array indexes are not used here). */
  private nodeAt(path: string[]): JsonSchema | undefined {
    let node: JsonSchema | undefined = this.schema;
    for (const part of path) node = node?.properties?.[part];
    return node;
  }
}

/** `/access/consent/acceptedAt` -> ['access', 'consent', 'acceptedAt']. */
function instancePathParts(instancePath: string): string[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}
