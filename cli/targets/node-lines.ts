/**
 * The handler reports one line per cluster node in its status message, `Node <NAME>: <text>`
 * (see core/node-report.ts); the instance view carries that message.
 */
export interface NodeLine {
  node: string;
  text: string;
}

const NODE_LINE = /^\s*Node\s+([^\s:][^:]*?)\s*:\s*(.*?)\s*$/;

export function parseNodeLines(message: string | undefined): NodeLine[] {
  const lines: NodeLine[] = [];
  for (const line of (message ?? '').split(/\r?\n/)) {
    const match = NODE_LINE.exec(line);
    if (match) lines.push({ node: match[1]!, text: match[2]! });
  }
  return lines;
}

/** The message without its node lines: what the handler says about the machine as a whole. */
export function machineSummary(message: string | undefined): string {
  return (message ?? '')
    .split(/\r?\n/)
    .filter((line) => line.trim() && !NODE_LINE.test(line))
    .join(' ')
    .trim();
}
