import { InputError } from '../errors';
import { parseMachineArgument } from '../input/azure-names';
import { machineTarget, type Target } from '../targets/target';
import { readJournal, type CommandName, type Journal } from './journal';

export interface ResumePlan {
  journal: Journal;
  /** The machines that did not succeed and can run again. */
  targets: Target[];
  /** Entries that cannot run again (malformed input, a cluster node with no Arc machine). */
  notRetryable: string[];
  succeeded: number;
}

/** Reads a journal for `--resume`: same command, only the machines that did not succeed. */
export async function planResume(file: string, command: CommandName): Promise<ResumePlan> {
  const journal = await readJournal(file);
  if (journal.command !== command) {
    throw new InputError(
      '--resume',
      file,
      `This journal is from \`${journal.command}\`; resume it with: arc-remote-support ${journal.command} --resume ${file}`,
    );
  }
  const targets: Target[] = [];
  const notRetryable: string[] = [];
  for (const entry of journal.targets) {
    if (entry.result === 'ok') continue;
    const parsed = entry.retryable ? parseMachineArgument(entry.machine, {}) : undefined;
    if (parsed?.ok) targets.push({ ...machineTarget(parsed.ref, 'journal'), key: entry.machine });
    else notRetryable.push(`${entry.label}: ${entry.detail}`);
  }
  return { journal, targets, notRetryable, succeeded: journal.targets.filter((entry) => entry.result === 'ok').length };
}
