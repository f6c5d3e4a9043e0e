import { appendFileSync, mkdirSync, renameSync, rmSync, statSync } from 'fs';
import { join } from 'path';
import { Redactor } from './redaction';

export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

export interface LoggerOptions {
  /** Rotate when the file would grow past this size. */
  maxBytes?: number;
  /** How many rotated files to keep beside the current one. */
  keep?: number;
  clock?: () => Date;
}

/**
 * Appends timestamped lines to `<logFolder>/<name>.log`, rotating to `<name>.1.log` ... `<name>.<keep>.log`.
 * Every line passes through the redactor first. Writes are synchronous: a handler killed by the
 * manager keeps every line it logged before it died.
 */
export class Logger {
  private readonly file: string;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly clock: () => Date;

  constructor(
    private readonly logFolder: string,
    private readonly redactor: Redactor,
    private readonly name = 'handler',
    options: LoggerOptions = {},
  ) {
    this.file = join(logFolder, `${name}.log`);
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
    this.keep = options.keep ?? 5;
    this.clock = options.clock ?? (() => new Date());
  }

  info(message: string, details?: unknown): void {
    this.write('INFO', message, details);
  }

  warn(message: string, details?: unknown): void {
    this.write('WARN', message, details);
  }

  error(message: string, details?: unknown): void {
    this.write('ERROR', message, details);
  }

  private write(level: LogLevel, message: string, details?: unknown): void {
    const suffix = details === undefined ? '' : ` ${JSON.stringify(this.redactor.redactValue(details))}`;
    const line = `${this.clock().toISOString()} [${level}] [pid ${process.pid}] ${this.redactor.redact(message)}${suffix}\n`;
    try {
      mkdirSync(this.logFolder, { recursive: true });
      this.rotateIfNeeded(Buffer.byteLength(line));
      appendFileSync(this.file, line, 'utf8');
    } catch {
      // Logging must never be the reason a handler fails.
    }
  }

  private rotateIfNeeded(incoming: number): void {
    let size = 0;
    try {
      size = statSync(this.file).size;
    } catch {
      return;
    }
    if (size + incoming <= this.maxBytes) return;
    rmSync(this.rotated(this.keep), { force: true });
    for (let index = this.keep - 1; index >= 1; index--) {
      try {
        renameSync(this.rotated(index), this.rotated(index + 1));
      } catch {
        // That generation does not exist yet.
      }
    }
    renameSync(this.file, this.rotated(1));
  }

  private rotated(index: number): string {
    return join(this.logFolder, `${this.name}.${index}.log`);
  }
}
