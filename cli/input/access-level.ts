import { InputError } from '../errors';
import { normalizeLevel, type GrantLevel } from '../../core/desired-state';

export const ACCEPTED_LEVELS = 'Diagnostics, DiagnosticsAndRepair (alias DiagnosticsRepair)';

/** Read as the handler reads the settings (any letter case, the alias); the canonical name is what gets sent. `None` is revoke's job. */
export function parseGrantLevel(text: string, option = '--level'): GrantLevel {
  const level = normalizeLevel(text.trim());
  if (level !== undefined && level !== 'None') return level;
  const hint = level === 'None' ? ' To end access use the revoke command.' : '';
  throw new InputError(option, text, `Accepted levels: ${ACCEPTED_LEVELS}.${hint}`);
}
