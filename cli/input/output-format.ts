import { InputError } from '../errors';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(text: string): OutputFormat {
  const format = text.trim().toLowerCase();
  if (format === 'table' || format === 'json' || format === 'yaml') return format;
  throw new InputError('--output', text, 'Accepted formats: table, json, yaml.');
}
