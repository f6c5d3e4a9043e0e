import { appendFileSync, mkdirSync, promises as fs, readFileSync } from 'fs';
import { writeFileAtomically } from '../extension/atomic-file';
import type { DesiredState } from '../core/desired-state';
import { readEndedGrants, storeEndedGrants, type EndedGrant, type StoredEndedGrant } from '../core/ended-grants';
import { escapeUnsafe } from '../extension/unsafe-text';
import { dataPaths } from './data-folder';

/** The desired state as stored: dates as ISO strings. */
export interface StoredDesiredState {
  retentionDays: number;
  grant?: {
    level: string;
    grantId: string;
    expiresAt: string;
    supportRequestId: string;
    consent: { termsVersion: string; acceptedAt: string; acceptedBy: string };
  };
}

/** What the handler last did on this machine; survives package versions. */
export interface RecordedState {
  schemaVersion: 1;
  extensionVersion: string;
  enabled: boolean;
  /** Cluster peers this node's extension covers (cluster.installOnPeers): uninstall cleans them. */
  coveredPeers?: string[];
  applied?: {
    sequenceNumber: number;
    appliedAt: string;
    desired: StoredDesiredState;
    protectedSettingsPresent: boolean;
  };
  /**
   * A copy of this node's list of ended grants (core/ended-grants.ts), kept here too so that a
   * desired-state record lost or replaced by an older copy gets it back. Kept through an update,
   * removed with the folder at uninstall.
   */
  endedGrants?: StoredEndedGrant[];
}

export interface UpgradeMarker {
  fromVersion: string;
  toVersion: string;
  writtenAt: string;
}

export type ReadResult<T> = { kind: 'missing' } | { kind: 'corrupt'; problem: string } | { kind: 'ok'; value: T };

/**
 * Reads and writes the files in the data folder; every write is atomic. What every run does (read
 * the state, compare before writing, append to the journal) is synchronous: see atomic-file.ts.
 */
export class StateStore {
  readonly paths: ReturnType<typeof dataPaths>;

  constructor(root: string) {
    this.paths = dataPaths(root);
  }

  readState(): Promise<ReadResult<RecordedState>> {
    return readJson<RecordedState>(this.paths.state, (value) => value.schemaVersion === 1 && typeof value.extensionVersion === 'string');
  }

  writeState(state: RecordedState): Promise<void> {
    return this.writeJson(this.paths.state, state);
  }

  readUpgradeMarker(): Promise<ReadResult<UpgradeMarker>> {
    return readJson<UpgradeMarker>(
      this.paths.upgradeMarker,
      (value) => typeof value.fromVersion === 'string' && typeof value.toVersion === 'string',
    );
  }

  writeUpgradeMarker(marker: UpgradeMarker): Promise<void> {
    return this.writeJson(this.paths.upgradeMarker, marker);
  }

  async removeUpgradeMarker(): Promise<void> {
    await fs.rm(this.paths.upgradeMarker, { force: true });
  }

  /**
   * One line per handler run: what ran, which version, which settings, with what result. Written
   * only while the folder exists, so a run after a full uninstall leaves no trace behind.
   */
  async appendOperationIfPresent(entry: Record<string, unknown>): Promise<void> {
    try {
      // Escaped beyond JSON's own rules: a U+2028 in a problem must not split the line for a reader.
      appendFileSync(this.paths.operations, `${escapeUnsafe(JSON.stringify(entry))}\n`, { encoding: 'utf8', flag: 'a' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async removeEverything(): Promise<void> {
    await fs.rm(this.paths.root, { recursive: true, force: true });
  }

  private async writeJson(file: string, value: unknown): Promise<void> {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    // A run that changes nothing (a no-op enable) leaves the file alone: no rewrite, no flush to disk.
    if (readTextIfAny(file) === text) return;
    mkdirSync(this.paths.root, { recursive: true });
    await writeFileAtomically(file, text);
  }
}

async function readJson<T>(file: string, isValid: (value: T) => boolean): Promise<ReadResult<T>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', problem: (error as Error).message };
  }
  try {
    const value = JSON.parse(text) as T;
    if (value && typeof value === 'object' && isValid(value)) return { kind: 'ok', value };
    return { kind: 'corrupt', problem: `${file} does not have the expected fields` };
  } catch (error) {
    return { kind: 'corrupt', problem: `${file} is not JSON (${(error as Error).message})` };
  }
}

function readTextIfAny(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function storeDesiredState(desired: DesiredState): StoredDesiredState {
  const { grant } = desired;
  return {
    retentionDays: desired.retentionDays,
    grant: grant && {
      level: grant.level,
      grantId: grant.grantId,
      expiresAt: grant.expiresAt.toISOString(),
      supportRequestId: grant.supportRequestId,
      consent: { ...grant.consent, acceptedAt: grant.consent.acceptedAt.toISOString() },
    },
  };
}

/** The state's copy of the ended grants; a copy that cannot be read counts as none (the node's record keeps its own). */
export function endedGrantsOf(state: RecordedState): EndedGrant[] {
  try {
    return readEndedGrants(state.endedGrants);
  } catch {
    return [];
  }
}

/** The state with this copy of the ended grants. */
export function withEndedGrantsCopy(state: RecordedState, ended: readonly EndedGrant[]): RecordedState {
  const { endedGrants: _before, ...rest } = state;
  return ended.length > 0 ? { ...rest, endedGrants: storeEndedGrants(ended) } : rest;
}
