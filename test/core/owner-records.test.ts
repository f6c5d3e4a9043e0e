/**
 * The node's records as the owner reads them through the agent: history lines (read back as
 * written, past grants from them) and JEA transcript headers (stamps in the machine's local time,
 * here this process's; test/owner-module checks the UTC they give in Europe/Berlin end to end).
 */

import { formatHistoryLine, pastGrants, readHistory, type HistoryEntry } from '../../core/access-history';
import { localStampToUtc, readTranscript } from '../../core/session-transcript';

const entry = (at: string, change: HistoryEntry['change'], grantId: string, by: string, level = 'None'): HistoryEntry => ({
  at: new Date(at),
  change,
  by,
  level,
  grantId,
  expiresAt: new Date('2026-03-02T00:00:00Z'),
  supportRequestId: 'SR-1',
  termsVersion: '2026.1',
});

describe('history lines', () => {
  it('read back what was written, and skip a line cut short by a crash or not an access change', () => {
    const granted = entry('2026-03-01T10:00:00Z', 'granted', 'g1', 'owner@contoso.example', 'Diagnostics');
    const text = `${formatHistoryLine(granted)}\n{"at":"2026-03-01T11:00:00Z","change":"rev\n${JSON.stringify({ at: '2026-03-01T12:00:00Z', change: 'collected' })}\n`;
    expect(readHistory(text)).toEqual([granted]);
  });

  it('give one past grant per id, newest first, ended by its last revoke or expiry', () => {
    const history = [
      entry('2026-03-01T10:00:00Z', 'granted', 'g1', 'owner@contoso.example', 'Diagnostics'),
      entry('2026-03-01T11:00:00Z', 'revoked', 'g1', 'CONTOSO\\admin (local)'),
      entry('2026-03-01T12:00:00Z', 'granted', 'g2', 'owner@contoso.example', 'DiagnosticsAndRepair'),
      entry('2026-03-01T13:00:00Z', 'granted', 'g3', 'owner@contoso.example', 'Diagnostics'),
    ];
    expect(pastGrants(history, 'g3').map((grant) => [grant.grantId, grant.state, grant.level, grant.acceptedBy, grant.endedBy])).toEqual([
      ['g2', 'Ended', 'DiagnosticsAndRepair', 'owner@contoso.example', null],
      ['g1', 'Revoked', 'Diagnostics', 'owner@contoso.example', 'CONTOSO\\admin (local)'],
    ]);
  });
});

describe('transcripts', () => {
  const stars = '**********************';
  const header = (lines: string[]) => [stars, 'Windows PowerShell transcript start', ...lines, stars, 'PS>Get-Service'].join('\r\n');

  const local = (...parts: [number, number, number, number, number, number]) =>
    new Date(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);

  it("read the local start and end stamps as this machine's local time", () => {
    const text = `${header(['Start time: 20260301101500', 'Username: CONTOSO\\eng1', 'RunAs User: WinRM Virtual Users\\WinRM VA_1_CONTOSO_eng1'])}\r\n${stars}\r\nEnd time: 20260301103000\r\n${stars}\r\n`;
    expect(readTranscript(text, 'PowerShell_transcript.N.x.20260301101500.txt', new Date(0))).toEqual({
      start: local(2026, 3, 1, 10, 15, 0),
      end: local(2026, 3, 1, 10, 30, 0),
      user: 'CONTOSO\\eng1',
      runAsUser: 'WinRM Virtual Users\\WinRM VA_1_CONTOSO_eng1',
    });
  });

  it('fall back to the stamp in the name, then to the last write time, and never take a stamp that is not a date', () => {
    expect(readTranscript(header(['Username: u']), 'PowerShell_transcript.N.x.20260801120000.txt', new Date(0)).start).toEqual(
      local(2026, 8, 1, 12, 0, 0),
    );
    expect(
      readTranscript(header(['Start time: 20260431120000']), 'PowerShell_transcript.N.x.txt', new Date('2026-05-01T00:00:00Z')).start,
    ).toEqual(new Date('2026-05-01T00:00:00Z'));
    expect(localStampToUtc('20260229000000')).toBeNull();
    expect(localStampToUtc('2026030110150')).toBeNull();
  });
});
