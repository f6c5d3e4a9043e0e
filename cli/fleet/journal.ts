/**
 * The record of a run over many machines: the command, exactly what was sent (the grant id and
 * expiry, the public settings; never protected settings) and each machine's outcome. It is written
 * before the first machine and after each one, so even an interrupted run can be resumed:
 * `--resume <journal>` runs the same command, with the same grant, for the machines that did not
 * succeed, and updates the same file.
 */
import { promises as fs } from 'fs';
import path from 'path';
import type { GrantLevel } from '../../core/desired-state';
import { InputError } from '../errors';
import type { GrantRecord } from '../settings/public-settings';
import type { TargetOutcome, TargetResult } from './outcome';

export type CommandName =
  'deploy' | 'grant' | 'configure' | 'revoke' | 'status' | 'upgrade' | 'remove' | 'cleanup-channels' | 'collect-logs';

/** What a command needs to run again identically. */
export type ResumableRequest =
  | { command: 'deploy'; version: string; retentionDays?: number }
  | { command: 'grant'; grant: GrantRecord; channel?: GrantChannelRequest }
  | { command: 'configure'; level?: GrantLevel; retentionDays?: number }
  | { command: 'revoke' }
  | { command: 'upgrade'; targetVersion: string }
  | { command: 'remove' };

/** A grant's channel, as a resumed run opens it again on the machines left: never a key or token. */
export interface GrantChannelRequest {
  relayNamespace: { name: string; subscriptionId: string; resourceGroup: string };
  engineer: string;
  nodes?: string[];
}

export interface JournalTarget {
  /** The machine's ARM id, or the text given when it never became one. */
  machine: string;
  label: string;
  /** False for input that can never be retried (a malformed name). */
  retryable: boolean;
  result: TargetResult | 'pending';
  detail: string;
  settingsSent?: Record<string, unknown>;
  updatedAt?: string;
}

export interface JournalRun {
  startedAt: string;
  finishedAt?: string;
  resumed: boolean;
  forceUpdateTag?: string;
  machines: number;
}

export interface Journal {
  tool: 'arc-remote-support';
  journalVersion: 1;
  command: CommandName;
  endpoint: string;
  audience?: string;
  request: ResumableRequest;
  runs: JournalRun[];
  targets: JournalTarget[];
}

export function defaultJournalPath(cwd: string, command: CommandName, now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return path.join(cwd, `arc-remote-support-${command}-${stamp}.json`);
}

export async function readJournal(file: string): Promise<Journal> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not valid JSON';
    throw new InputError(
      '--resume',
      file,
      `The journal cannot be read (${reason}); give the file a previous run wrote (arc-remote-support-<command>-<time>.json).`,
    );
  }
  const journal = parsed as Partial<Journal>;
  if (
    journal?.tool !== 'arc-remote-support' ||
    journal.journalVersion !== 1 ||
    !journal.request ||
    !Array.isArray(journal.targets) ||
    !Array.isArray(journal.runs)
  ) {
    throw new InputError('--resume', file, 'This is not a journal written by arc-remote-support (journalVersion 1).');
  }
  return journal as Journal;
}

/** Keeps the journal file current; saves are serialized and atomic (temporary file, then rename). */
export class JournalWriter {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    readonly journal: Journal,
    private readonly now: () => Date,
  ) {}

  startRun(run: Omit<JournalRun, 'startedAt'>): Promise<void> {
    this.journal.runs.push({ startedAt: this.now().toISOString(), ...run });
    return this.save();
  }

  record(machine: string, outcome: TargetOutcome): Promise<void> {
    const entry = this.journal.targets.find((target) => target.machine.toLowerCase() === machine.toLowerCase());
    if (entry) {
      entry.result = outcome.result;
      entry.detail = outcome.detail;
      entry.updatedAt = this.now().toISOString();
      if (outcome.settingsSent) entry.settingsSent = outcome.settingsSent;
    }
    return this.save();
  }

  finishRun(): Promise<void> {
    const run = this.journal.runs[this.journal.runs.length - 1];
    if (run) run.finishedAt = this.now().toISOString();
    return this.save();
  }

  private save(): Promise<void> {
    const text = `${JSON.stringify(this.journal, null, 2)}\n`;
    this.saving = this.saving
      .catch(() => undefined)
      .then(async () => {
        const temporary = `${this.file}.${process.pid}.tmp`;
        await fs.writeFile(temporary, text, { mode: 0o600 });
        await fs.rename(temporary, this.file);
      });
    return this.saving;
  }
}
