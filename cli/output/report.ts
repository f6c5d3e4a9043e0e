/**
 * The end of a run on stdout: per-machine results, or per-machine-and-node status, and for
 * --what-if the requests that would have been sent. The same data in table, JSON or YAML.
 */
import type { RecordedRequest } from '../arm/what-if-policy';
import type { MachineStatus } from '../commands/status';
import type { TargetOutcome } from '../fleet/outcome';
import type { OutputFormat } from '../input/output-format';
import type { Target } from '../targets/target';
import { renderData, renderTable, type Column } from './render';

export interface ResultRow {
  machine: string;
  id?: string;
  result: TargetOutcome['result'];
  detail: string;
}

export function resultRows(targets: Target[], outcomes: TargetOutcome[]): ResultRow[] {
  return targets.map((target, index) => ({
    machine: target.label,
    ...(target.ref ? { id: target.key } : {}),
    result: outcomes[index]?.result ?? 'failed',
    detail: outcomes[index]?.detail ?? 'not run',
  }));
}

const RESULT_COLUMNS: Column<ResultRow>[] = [
  { header: 'machine', value: (row) => row.machine },
  { header: 'result', value: (row) => row.result },
  { header: 'detail', value: (row) => row.detail },
];

interface StatusLine {
  machine: string;
  node: string;
  provisioning: string;
  level: string;
  ticket: string;
  expiresAt: string;
  timeLeft: string;
  message: string;
}

/** A machine's line, then one line per node its extension reports. */
export function statusLines(statuses: MachineStatus[]): StatusLine[] {
  return statuses.flatMap((status) => [
    {
      machine: status.machine,
      node: '',
      provisioning: status.provisioningState,
      level: status.level,
      ticket: status.supportRequestId ?? '',
      expiresAt: status.expiresAt ?? '',
      timeLeft: status.timeLeft,
      message: [
        status.agentStatus && status.agentStatus !== 'Connected' ? `agent ${status.agentStatus}.` : '',
        status.message,
        status.channel ? `Channel ${status.channel}.` : '',
        // The handler's own sentence is in its message already; otherwise say where the request stands.
        status.logCollection && !status.message.includes(status.logCollection.requestId)
          ? `Log collection ${status.logCollection.requestId}: ${status.logCollection.state}.`
          : '',
        status.leftoverChannels
          ? `Left from ended grants (arc-remote-support cleanup-channels): ${status.leftoverChannels.join(', ')}.`
          : '',
      ]
        .filter(Boolean)
        .join(' '),
    },
    ...status.nodes.map((node) => ({
      machine: '',
      node: node.node,
      provisioning: '',
      level: '',
      ticket: '',
      expiresAt: '',
      timeLeft: '',
      message: node.message,
    })),
  ]);
}

const STATUS_COLUMNS: Column<StatusLine>[] = [
  { header: 'machine', value: (line) => line.machine },
  { header: 'node', value: (line) => line.node },
  { header: 'provisioning', value: (line) => line.provisioning },
  { header: 'level', value: (line) => line.level },
  { header: 'ticket', value: (line) => line.ticket },
  { header: 'expires at', value: (line) => line.expiresAt },
  { header: 'time left', value: (line) => line.timeLeft },
  { header: 'message', value: (line) => line.message },
];

export interface RunReport {
  command: string;
  whatIf: boolean;
  results: ResultRow[];
  statuses?: MachineStatus[];
  requests?: RecordedRequest[];
  grant?: unknown;
  journal?: string;
  throttled: number;
  concurrency: number;
}

export function formatReport(report: RunReport, format: OutputFormat, width?: number): string {
  if (format !== 'table') {
    const { statuses, results, ...rest } = report;
    return renderData(statuses ? { ...rest, machines: statuses, results } : { ...rest, results }, format);
  }
  const parts: string[] = [];
  if (report.requests) parts.push(describeRequests(report.requests));
  if (report.statuses) {
    parts.push(renderTable(statusLines(report.statuses), STATUS_COLUMNS, width));
    const failed = report.results.filter((row) => row.result !== 'ok');
    if (failed.length > 0) parts.push(renderTable(failed, RESULT_COLUMNS, width));
  } else {
    parts.push(renderTable(report.results, RESULT_COLUMNS, width));
  }
  return parts.join('\n');
}

function describeRequests(requests: RecordedRequest[]): string {
  if (requests.length === 0) return 'What if: no write would be sent.';
  const lines = [`What if: nothing was written. These ${requests.length} request(s) would be sent:`];
  for (const request of requests) {
    lines.push('', `${request.method} ${request.url}`);
    if (request.body !== undefined) lines.push(JSON.stringify(request.body, null, 2));
  }
  return `${lines.join('\n')}\n`;
}
