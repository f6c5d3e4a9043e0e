import { InputError } from '../errors';
import type { GrantLevel } from '../../core/desired-state';

/** The levels a grant can give, with the alias the settings schema also accepts. */
const LEVELS: Record<string, GrantLevel> = {
  diagnostics: 'Diagnostics',
  diagnosticsandrepair: 'DiagnosticsAndRepair',
  diagnosticsrepair: 'DiagnosticsAndRepair',
};

export const ACCEPTED_LEVELS = 'Diagnostics, DiagnosticsAndRepair (alias DiagnosticsRepair)';

/** Case-insensitive; the canonical name is what gets sent. `None` is revoke's job. */
export function parseGrantLevel(text: string, option = '--level'): GrantLevel {
  const level = LEVELS[text.trim().toLowerCase()];
  if (level) return level;
  const hint = text.trim().toLowerCase() === 'none' ? ' To end access use the revoke command.' : '';
  throw new InputError(option, text, `Accepted levels: ${ACCEPTED_LEVELS}.${hint}`);
}
