/**
 * What the CLI prints on stdout: a table for people, or JSON / YAML for scripts (the same data).
 * Progress and notes go to stderr so stdout stays parseable.
 */
import Table from 'cli-table3';
import YAML from 'yaml';
import type { OutputFormat } from '../input/output-format';

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
}

export function renderTable<Row>(rows: Row[], columns: Column<Row>[], width?: number): string {
  // No colours: the table is also read from logs and pipes.
  const table = new Table({
    head: columns.map((column) => column.header),
    style: { head: [], border: [] },
    ...wrapping(columns.length, width),
  });
  for (const row of rows) table.push(columns.map((column) => column.value(row)));
  return table.toString();
}

/** At a terminal, the last column wraps to fit; elsewhere lines stay whole for grep. */
function wrapping(count: number, width: number | undefined): { colWidths?: Array<number | null>; wordWrap?: boolean } {
  if (!width || width < 60) return {};
  return { wordWrap: true, colWidths: [...Array<null>(count - 1).fill(null), Math.max(30, Math.floor(width * 0.5))] };
}

export function renderData(data: unknown, format: Exclude<OutputFormat, 'table'>): string {
  if (format === 'json') return JSON.stringify(data, null, 2);
  return YAML.stringify(data).trimEnd();
}
