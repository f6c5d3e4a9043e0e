/**
 * What the host makes for a collection: each requested event log channel exported over the window
 * (exportEventLog; wevtutil epl on Windows), and the logs Windows writes on request (the cluster log
 * from the window's start on, the Windows Update log; writeGeneratedLog), all into LOG_EXPORT_FOLDER
 * on the node, named by the source's id; each entry is read back from that copy. The copies go once
 * the bundle is written (release), else with the log staging retention (7 days). The Security log is
 * never asked for here without the owner's opt-in: the bundle refuses it before any reader is
 * called (collect-plan.ts sourceDenial).
 */
import { LOG_EXPORT_FOLDER } from '../core/node-layout';
import { op, type OperationRequest } from '../windows/operations';
import type { OperationOutcome, WindowsHost } from '../windows/port';
import { SourceReadError, channelFileName, eventLogQuery, type Listing, type TimeWindow } from './reader';
import type { EventLogSource, GeneratedSource, Source } from './sources';

export interface LogExporter {
  /** The channel's entry (its copy on the node), or SourceReadError: 'missing' when the node does not have it. */
  eventLog(source: Source, spec: EventLogSource, window: TimeWindow): Promise<Listing>;
  /** The generated log's entry, or SourceReadError: 'missing' when the node cannot make it. */
  generatedLog(source: Source, spec: GeneratedSource, window: TimeWindow): Promise<Listing>;
  /** Deletes the copies made. */
  release(): Promise<void>;
}

/** The names the generated logs have in the bundle: Windows' own. */
const GENERATED_NAMES: Record<GeneratedSource['producer'], string> = { clusterLog: 'Cluster.log', windowsUpdateLog: 'WindowsUpdate.log' };

export class HostLogExporter implements LogExporter {
  private made = false;

  constructor(
    private readonly host: WindowsHost,
    private readonly folder: string = LOG_EXPORT_FOLDER,
  ) {}

  async eventLog(source: Source, spec: EventLogSource, window: TimeWindow): Promise<Listing> {
    const query = eventLogQuery(window);
    // Named by the source's id (lower-case letters, digits, '-'): nothing from the node or the request.
    const path = `${this.folder}\\${source.id}.evtx`;
    const size = await this.make(spec.channel, op('exportEventLog', { channel: spec.channel, query, path }));
    // Binary: never tail-truncated (half an evtx file is no file); over its cap it is skipped.
    return listed({
      sourceId: source.id,
      origin: spec.channel,
      name: channelFileName(spec.channel),
      size,
      text: false,
      query,
      stagedPath: path,
    });
  }

  async generatedLog(source: Source, spec: GeneratedSource, window: TimeWindow): Promise<Listing> {
    const path = `${this.folder}\\${source.id}.log`;
    const size = await this.make(spec.producer, op('writeGeneratedLog', { producer: spec.producer, sinceUtc: window.from, path }));
    // Text: redacted, and over its cap its newest lines are kept.
    return listed({ sourceId: source.id, origin: spec.producer, name: GENERATED_NAMES[spec.producer], size, text: true, stagedPath: path });
  }

  async release(): Promise<void> {
    if (!this.made) return;
    this.made = false;
    await this.host.execute([op('removePath', { path: this.folder })], { phase: 'collect-logs: remove exported logs' });
  }

  /** Runs the operation after making the folder; its size, or SourceReadError. */
  private async make(what: string, request: OperationRequest): Promise<number> {
    let outcomes: OperationOutcome[];
    try {
      outcomes = await this.host.execute([op('ensureDirectory', { path: this.folder }), request], {
        phase: `collect-logs: export ${what}`,
      });
    } catch (error) {
      throw new SourceReadError('unreadable', `${what} could not be exported: ${(error as Error).message}`);
    }
    this.made = true;
    const failed = outcomes.find((outcome) => !outcome.ok);
    if (failed && !failed.ok) throw new SourceReadError('unreadable', `${what} could not be exported: ${failed.error.message}`);
    const result = (outcomes[1] as { ok: true; value: { present: boolean; size: number } }).value;
    if (!result.present) throw new SourceReadError('missing', `${what} is not on this node`);
    return result.size;
  }
}

function listed(entry: Listing['entries'][number]): Listing {
  return { entries: [entry], skipped: [] };
}
