/** The journal: written as the run goes, read back by --resume for the machines that did not succeed. */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import { defaultJournalPath, JournalWriter, readJournal, type Journal } from '../../cli/fleet/journal';
import { planResume } from '../../cli/fleet/resume';

const SUB = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const id = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/${name}`;
const GRANT = {
  level: 'Diagnostics' as const,
  grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
  expiresAt: '2026-11-25T04:00:00Z',
  supportRequestId: 'TKT-1',
  consent: { termsVersion: '2026.1', acceptedAt: '2026-11-24T20:00:00Z', acceptedBy: 'owner@contoso.example' },
};

describe('the journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ars-journal-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  function journal(): Journal {
    return {
      tool: 'arc-remote-support',
      journalVersion: 1,
      command: 'grant',
      endpoint: 'https://management.azure.com',
      request: { command: 'grant', grant: GRANT },
      runs: [],
      targets: [
        { machine: id('a'), label: 'rg/a', retryable: true, result: 'pending', detail: '' },
        { machine: id('b'), label: 'rg/b', retryable: true, result: 'pending', detail: '' },
        { machine: 'bad name', label: 'bad name', retryable: false, result: 'pending', detail: '' },
        { machine: id('c'), label: 'rg/c', retryable: true, result: 'pending', detail: '' },
      ],
    };
  }

  it('is named after the command and the time, in the working folder', () => {
    expect(defaultJournalPath('/work', 'grant', new Date('2026-11-24T20:00:05.123Z'))).toBe(
      '/work/arc-remote-support-grant-20261124T200005Z.json',
    );
  });

  it('records each outcome with the settings sent, and the runs', async () => {
    const file = path.join(dir, 'j.json');
    let tick = 0;
    const writer = new JournalWriter(file, journal(), () => new Date(Date.UTC(2026, 10, 24, 20, 0, tick++)));
    await writer.startRun({ resumed: false, forceUpdateTag: 'tag-1', machines: 4 });
    const settings = { schemaVersion: 1, access: GRANT, retentionDays: 90 };
    await Promise.all([
      writer.record(id('a'), { result: 'ok', detail: 'granted', settingsSent: settings }),
      writer.record(id('B'), { result: 'failed', detail: 'timed out', settingsSent: settings }),
      writer.record('bad name', { result: 'failed', detail: 'not a valid Arc machine name' }),
      writer.record(id('c'), { result: 'failed', detail: 'not eligible' }),
    ]);
    await writer.finishRun();

    const saved = await readJournal(file);
    expect(saved.runs).toEqual([
      { startedAt: '2026-11-24T20:00:00.000Z', finishedAt: expect.any(String), resumed: false, forceUpdateTag: 'tag-1', machines: 4 },
    ]);
    expect(saved.targets.map((target) => [target.label, target.result])).toEqual([
      ['rg/a', 'ok'],
      ['rg/b', 'failed'],
      ['bad name', 'failed'],
      ['rg/c', 'failed'],
    ]);
    expect(saved.targets[0]?.settingsSent).toEqual(settings);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('resumes only the machines that did not succeed and can be retried', async () => {
    const file = path.join(dir, 'j.json');
    const saved = journal();
    saved.targets[0]!.result = 'ok';
    saved.targets[1]!.result = 'failed';
    saved.targets[2]!.result = 'failed';
    saved.targets[2]!.detail = 'not a valid Arc machine name';
    saved.targets[3]!.result = 'pending';
    await fs.writeFile(file, JSON.stringify(saved));

    const plan = await planResume(file, 'grant');
    expect(plan.targets.map((target) => target.key)).toEqual([id('b'), id('c')]);
    expect(plan.targets[0]?.ref).toEqual({ subscriptionId: SUB, resourceGroup: 'rg', name: 'b' });
    expect(plan.notRetryable).toEqual(['bad name: not a valid Arc machine name']);
    expect(plan.succeeded).toBe(1);
    expect(plan.journal.request).toEqual({ command: 'grant', grant: GRANT });
  });

  it('refuses a journal of another command or another tool', async () => {
    const file = path.join(dir, 'j.json');
    await fs.writeFile(file, JSON.stringify(journal()));
    await expect(planResume(file, 'revoke')).rejects.toThrow(
      /This journal is from `grant`; resume it with: arc-remote-support grant --resume/,
    );
    await fs.writeFile(file, '{"tool":"other"}');
    await expect(planResume(file, 'grant')).rejects.toThrow(/not a journal written by arc-remote-support/);
    await expect(planResume(path.join(dir, 'missing.json'), 'grant')).rejects.toThrow(/--resume: received .*ENOENT/);
  });
});
