/** What the CLI prints: node lines read from the handler's message, time left, tables, JSON and YAML. */
import YAML from 'yaml';
import { describeStatus } from '../../cli/commands/status';
import { formatReport, statusLines } from '../../cli/output/report';
import { machineSummary, parseNodeLines } from '../../cli/targets/node-lines';

const REF = { subscriptionId: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', resourceGroup: 'rg', name: 'node-1' };
const MESSAGE =
  'Access: Diagnostics for support request TKT-1 until 2026-11-25T04:00:00Z (7 h 59 min left).\nNode NODE-1: access Diagnostics until 2026-11-25T04:00:00Z; no change needed.\n  Node node-2 : cluster node Up; not managed from NODE-1.';
const SETTINGS = {
  schemaVersion: 1,
  access: { level: 'Diagnostics', grantId: 'g', expiresAt: '2026-11-25T04:00:00Z', supportRequestId: 'TKT-1' },
  retentionDays: 90,
};

describe('node lines', () => {
  it("reads one line per node and the rest as the machine's summary", () => {
    expect(parseNodeLines(MESSAGE)).toEqual([
      { node: 'NODE-1', text: 'access Diagnostics until 2026-11-25T04:00:00Z; no change needed.' },
      { node: 'node-2', text: 'cluster node Up; not managed from NODE-1.' },
    ]);
    expect(machineSummary(MESSAGE)).toBe('Access: Diagnostics for support request TKT-1 until 2026-11-25T04:00:00Z (7 h 59 min left).');
    expect(parseNodeLines(undefined)).toEqual([]);
  });
});

describe('status', () => {
  it('shows level, ticket, expiry and time left from the settings, and the nodes', () => {
    const status = describeStatus(
      'rg/node-1',
      REF,
      'Connected',
      { provisioningState: 'Succeeded', settings: SETTINGS, message: MESSAGE },
      new Date('2026-11-24T20:30:00Z'),
    );
    expect(status).toMatchObject({
      provisioningState: 'Succeeded',
      level: 'Diagnostics',
      supportRequestId: 'TKT-1',
      expiresAt: '2026-11-25T04:00:00Z',
      timeLeft: '7 h 30 min',
    });
    expect(status.nodes.map((node) => node.node)).toEqual(['NODE-1', 'node-2']);
  });

  it('says Expired once the expiry has passed, and - without a grant', () => {
    expect(describeStatus('m', REF, 'Connected', { settings: SETTINGS }, new Date('2026-11-25T04:00:00Z')).timeLeft).toBe('Expired');
    expect(describeStatus('m', REF, 'Connected', { settings: { access: { level: 'None' } } }, new Date()).timeLeft).toBe('-');
    expect(describeStatus('m', REF, 'Connected', undefined, new Date())).toMatchObject({ provisioningState: 'NotDeployed', timeLeft: '-' });
  });

  it.each(['none', 'NONE', 'None'])('reads a stored level %s as None: no grant, no time left', (level) => {
    const status = describeStatus(
      'm',
      REF,
      'Connected',
      { settings: { ...SETTINGS, access: { ...SETTINGS.access, level } } },
      new Date('2026-11-24T20:30:00Z'),
    );
    expect(status).toMatchObject({ level: 'None', timeLeft: '-' });
    expect(status).not.toHaveProperty('grantId');
    expect(status).not.toHaveProperty('expiresAt');
  });

  it.each([
    ['diagnostics', 'Diagnostics'],
    ['diagnosticsrepair', 'DiagnosticsAndRepair'],
    ['DIAGNOSTICSANDREPAIR', 'DiagnosticsAndRepair'],
  ])('shows a stored level %s as %s, with its time left', (level, canonical) => {
    const status = describeStatus(
      'm',
      REF,
      'Connected',
      { settings: { ...SETTINGS, access: { ...SETTINGS.access, level } } },
      new Date('2026-11-24T20:30:00Z'),
    );
    expect(status).toMatchObject({ level: canonical, grantId: 'g', timeLeft: '7 h 30 min' });
  });

  it('shows a level the extension does not know as stored, and no grant', () => {
    const status = describeStatus(
      'm',
      REF,
      'Connected',
      { settings: { ...SETTINGS, access: { ...SETTINGS.access, level: 'Full' } } },
      new Date('2026-11-24T20:30:00Z'),
    );
    expect(status).toMatchObject({ level: 'Full', timeLeft: '-' });
    expect(status).not.toHaveProperty('grantId');
  });

  it('prints a machine line then a line per node', async () => {
    const status = describeStatus(
      'rg/node-1',
      REF,
      'Disconnected',
      { provisioningState: 'Succeeded', settings: SETTINGS, message: MESSAGE },
      new Date('2026-11-24T20:30:00Z'),
    );
    const lines = statusLines([status]);
    expect(lines.map((line) => [line.machine, line.node])).toEqual([
      ['rg/node-1', ''],
      ['', 'NODE-1'],
      ['', 'node-2'],
    ]);
    expect(lines[0]?.message).toMatch(/^agent Disconnected\. Access: Diagnostics/);
    const table = await formatReport(
      { command: 'status', whatIf: false, results: [], statuses: [status], throttled: 0, concurrency: 8 },
      'table',
    );
    expect(table).toContain('time left');
    expect(table).toContain('7 h 30 min');
    expect(table).not.toContain('\u001b[');
  });
});

describe('result formats', () => {
  const report = {
    command: 'grant',
    whatIf: false,
    results: [
      { machine: 'rg/a', result: 'ok' as const, detail: 'granted' },
      { machine: 'rg/b', result: 'failed' as const, detail: 'not eligible' },
    ],
    throttled: 0,
    concurrency: 8,
  };

  it('is a table of machine, result and detail', async () => {
    const table = await formatReport(report, 'table');
    expect(table.split('\n')[1]).toMatch(/machine.*result.*detail/);
    expect(table).toMatch(/rg\/b\s*│ failed │ not eligible/);
  });

  it('is the same data as JSON and YAML', async () => {
    const json = JSON.parse(await formatReport(report, 'json'));
    expect(json.results).toEqual(report.results);
    expect(YAML.parse(await formatReport(report, 'yaml'))).toEqual(json);
  });

  it('lists what-if requests before the table', async () => {
    const text = await formatReport(
      {
        ...report,
        whatIf: true,
        requests: [
          { method: 'PATCH', url: 'https://x/y?api-version=2024-07-10', body: { properties: { protectedSettings: '<redacted>' } } },
        ],
      },
      'table',
    );
    expect(text).toMatch(
      /^What if: nothing was written\. These 1 request\(s\) would be sent:\n\nPATCH https:\/\/x\/y\?api-version=2024-07-10\n\{/,
    );
  });
});

describe('the last log collection in status', () => {
  const ID = '0b6f3c2e-8d1a-4f5b-9c7e-2a4d6f8b0c1e';
  const OTHER = '7d2e9a41-3b5c-4e6f-8a9b-1c2d3e4f5a6b';
  const asked = { ...SETTINGS, logCollection: { requestId: ID, window: { from: 'F', to: 'T' }, categories: ['ArcAgent'] } };
  const view = (message: string, settings: Record<string, unknown> = asked) =>
    describeStatus('rg/node-1', REF, 'Connected', { provisioningState: 'Succeeded', settings, message }, new Date('2026-11-24T20:30:00Z'));

  it("reads the handler's sentence about the request: waiting, already run, refused, or nothing yet", () => {
    expect(view(`Access: none. Log collection ${ID} is waiting or running.\nNode NODE-1: access off.`).logCollection).toEqual({
      requestId: ID,
      state: 'waiting or running',
      detail: `Log collection ${ID} is waiting or running.`,
      window: { from: 'F', to: 'T' },
      categories: ['ArcAgent'],
    });
    expect(
      view(`Access: none. Log collection ${ID} has already run: its record is in the log collection history.`).logCollection,
    ).toMatchObject({
      state: 'already run',
    });
    const refusal = `Invalid setting 'logCollection.requestId': received ${ID} while the collection ${OTHER} (requested 2026-11-24T20:00:00Z) has not ended. Accepted: one collection at a time: wait until ${OTHER} ends (its record appears in the log collection history), then ask again.`;
    expect(view(refusal).logCollection).toMatchObject({ requestId: ID, state: 'refused', detail: refusal });
    expect(view('Access: none.').logCollection).toMatchObject({ requestId: ID, state: 'not reported' });
    // The table says where a request stands when the handler's message does not.
    expect(statusLines([view('Access: none.')])[0]!.message).toBe(`Access: none. Log collection ${ID}: not reported.`);
  });

  it('has none when the settings ask none and the handler says nothing of one', () => {
    expect(view('Access: none.', SETTINGS)).not.toHaveProperty('logCollection');
  });
});
