/**
 * Every public settings object the CLI sends is checked with the same generated validator and
 * messages the handler uses, so the CLI never sends settings the handler would refuse.
 */
import { SettingsSchema } from '../../extension/settings-schema';
import settingsSchema from '../../manifests/settings.schema.json';
import validateSettings from '../../manifests/settings.validator';

const schema = new SettingsSchema(validateSettings, settingsSchema);

/** Throws the handler's ConfigurationError (field, value received, what is accepted). */
export function checkPublicSettings(settings: unknown): void {
  schema.check(settings);
}
