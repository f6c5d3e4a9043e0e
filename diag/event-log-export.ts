/**
 * Event log channels for a collection: the host exports each requested channel over the window
 * (exportEventLog; wevtutil epl on Windows) into LOG_EXPORT_FOLDER on the node, and the entry is read
 * back from that copy. The copies go once the bundle is written (release), else with the log
 * staging retention (7 days). The Security log is never asked for here without the owner's opt-in:
 * the bundle refuses it before any reader is called (collect-plan.ts sourceDenial).
 */
import { LOG_EXPORT_FOLDER } from '../core/node-layout';
import { op, type OperationResultOf } from '../windows/operations';
import type { OperationOutcome, WindowsHost } from '../windows/port';
import { SourceReadError, channelFileName, eventLogQuery, type Listing, type TimeWindow } from './reader';
import type { EventLogSource, Source } from './sources';

export interface EventLogExporter {
  /** The channel's entry (its copy on the node), or SourceReadError: 'missing' when the node does not have it. */
  list(source: Source, spec: EventLogSource, window: TimeWindow): Promise<Listing>;
  /** Deletes the copies made. */
  release(): Promise<void>;
}

export class HostEventLogExporter implements EventLogExporter {
  private exported = false;

  constructor(
    private readonly host: WindowsHost,
    private readonly folder: string = LOG_EXPORT_FOLDER,
  ) {}

  async list(source: Source, spec: EventLogSource, window: TimeWindow): Promise<Listing> {
    const query = eventLogQuery(window);
    // Named by the source's id (lower-case letters, digits, '-'): nothing from the node or the request.
    const path = `${this.folder}\\${source.id}.evtx`;
    let outcomes: OperationOutcome[];
    try {
      outcomes = await this.host.execute(
        [op('ensureDirectory', { path: this.folder }), op('exportEventLog', { channel: spec.channel, query, path })],
        { phase: `collect-logs: export ${spec.channel}` },
      );
    } catch (error) {
      throw new SourceReadError('unreadable', `${spec.channel} could not be exported: ${(error as Error).message}`);
    }
    this.exported = true;
    const failed = outcomes.find((outcome) => !outcome.ok);
    if (failed && !failed.ok) throw new SourceReadError('unreadable', `${spec.channel} could not be exported: ${failed.error.message}`);
    const result = (outcomes[1] as { ok: true; value: OperationResultOf<'exportEventLog'> }).value;
    if (!result.present) throw new SourceReadError('missing', `${spec.channel} is not on this node`);
    return {
      entries: [
        {
          sourceId: source.id,
          origin: spec.channel,
          name: channelFileName(spec.channel),
          size: result.size,
          // Binary: never tail-truncated (half an evtx file is no file); over its cap it is skipped.
          text: false,
          query,
          stagedPath: path,
        },
      ],
      skipped: [],
    };
  }

  async release(): Promise<void> {
    if (!this.exported) return;
    this.exported = false;
    await this.host.execute([op('removePath', { path: this.folder })], { phase: 'collect-logs: remove exported event logs' });
  }
}
