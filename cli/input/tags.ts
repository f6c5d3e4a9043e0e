import { InputError } from '../errors';

export interface TagFilter {
  key: string;
  value: string;
}

/** `--tag key=value`; the value may itself contain '=' (only the first one separates). */
export function parseTag(text: string): TagFilter {
  const at = text.indexOf('=');
  const key = at > 0 ? text.slice(0, at).trim() : '';
  if (!key) throw new InputError('--tag', text, 'Give a tag as key=value, for example --tag env=prod (repeat --tag to require several).');
  return { key, value: text.slice(at + 1) };
}

/**
 * Every filter must match. Azure tag names are case-insensitive and values case-sensitive, the
 * way Azure Policy and Resource Graph compare them.
 */
export function matchesTags(tags: Record<string, string> | undefined, filters: TagFilter[]): boolean {
  const entries = Object.entries(tags ?? {});
  return filters.every((filter) =>
    entries.some(([key, value]) => key.toLowerCase() === filter.key.toLowerCase() && value === filter.value),
  );
}
