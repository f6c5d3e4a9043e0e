/**
 * The ended grants a node keeps (core/ended-grants.ts): which changes end a grant and why, how the
 * history tells the same, how long an entry is kept, the update's own disable, and the refusal.
 */
import { ConfigurationError } from '../../extension/errors';
import { parseDesiredRecord, serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import type { Grant } from '../../core/desired-state';
import {
  endedGrantBlocking,
  endedGrantsInHistory,
  endsOfChange,
  mergeEndedGrants,
  refuseEndedGrant,
  withoutUpdateDisable,
  MAX_ENDED_GRANTS,
  type EndedGrant,
} from '../../core/ended-grants';
import { grantInForce } from '../../core/node-intent';

const NOW = new Date('2026-11-24T20:00:00Z');
const minutes = (count: number) => new Date(NOW.getTime() + count * 60_000);
const days = (count: number) => minutes(count * 24 * 60);
const grant = (grantId: string, expiresAt = minutes(8 * 60)): Grant => ({
  level: 'Diagnostics',
  grantId,
  expiresAt,
  supportRequestId: 'TKT-1',
  consent: { termsVersion: '2026.1', acceptedAt: minutes(-1), acceptedBy: 'owner@contoso.example' },
});
const X = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const Y = '7a1c9e2b-4d3f-4a5b-8c6d-0e1f2a3b4c5d';
const withGrant = (value: Grant | null, enabled = true): DesiredRecord => ({ enabled, retentionDays: 30, grant: value });
const ended = (grantId: string, endedAt: Date, reason: EndedGrant['reason'], by?: string): EndedGrant => ({
  grantId,
  endedAt,
  reason,
  ...(by ? { by } : {}),
});

describe('the grants a change of the record ends', () => {
  it.each<[string, DesiredRecord, DesiredRecord, string, EndedGrant[]]>([
    ['level None', withGrant(grant(X)), withGrant(null), 'extension settings', [ended(X, NOW, 'revoked')]],
    [
      "the owner's local revoke",
      withGrant(grant(X)),
      withGrant(null),
      'CONTOSO\\admin (local)',
      [ended(X, NOW, 'revoked-locally', 'CONTOSO\\admin')],
    ],
    ['a new grant', withGrant(grant(X)), withGrant(grant(Y)), 'owner@contoso.example', [ended(X, NOW, 'replaced', Y)]],
    ['disable', withGrant(grant(X)), withGrant(grant(X), false), 'disable', [ended(X, NOW, 'disabled')]],
    [
      'an expiry that passed, at its own time',
      withGrant(grant(X, minutes(-30))),
      withGrant(null),
      'extension settings',
      [ended(X, minutes(-30), 'expired')],
    ],
    [
      'nothing: another level or period for the same grant',
      withGrant(grant(X)),
      withGrant({ ...grant(X, minutes(600)), level: 'DiagnosticsAndRepair' }),
      'owner@contoso.example',
      [],
    ],
    ['nothing: a disable of an extension already disabled', withGrant(grant(X), false), withGrant(grant(X), false), 'disable', []],
    ['nothing: the first grant', withGrant(null), withGrant(grant(X)), 'owner@contoso.example', []],
  ])('%s', (_name, previous, next, changedBy, expected) => {
    expect(endsOfChange(previous, next, NOW, changedBy)).toEqual(expected);
  });
});

describe('the grants the history shows ended', () => {
  const line = (at: Date, change: string, by: string, grantId: string | null, expiresAt?: Date) =>
    JSON.stringify({
      at: at.toISOString(),
      change,
      by,
      level: change === 'granted' ? 'Diagnostics' : 'None',
      grantId,
      expiresAt: expiresAt?.toISOString() ?? null,
    });
  const history = (...lines: string[]) => `${lines.join('\n')}\n`;

  it('reads revokes, local revokes, expiries at their expiry time and replacements', () => {
    const text = history(
      line(minutes(0), 'granted', 'owner', X),
      line(minutes(5), 'granted', 'owner', Y),
      line(minutes(10), 'revoked', 'CONTOSO\\admin (local)', Y),
      line(minutes(20), 'granted', 'owner', 'a1'),
      line(minutes(30), 'revoked', 'extension settings', 'a1'),
      line(minutes(40), 'granted', 'owner', 'b2'),
      line(minutes(55), 'expired', 'expiry', 'b2', minutes(50)),
      line(minutes(60), 'revoked', 'extension settings', null),
    );
    expect(endedGrantsInHistory(text)).toEqual([
      ended(X, minutes(5), 'replaced', Y),
      ended(Y, minutes(10), 'revoked-locally', 'CONTOSO\\admin'),
      ended('a1', minutes(30), 'revoked'),
      ended('b2', minutes(50), 'expired'),
    ]);
  });

  it("does not read a disable: the update's first step, after which the grant comes back", () => {
    const text = history(
      line(minutes(0), 'granted', 'owner', X),
      line(minutes(5), 'revoked', 'disable', X),
      line(minutes(6), 'granted', 'owner', X),
      line(minutes(7), 'revoked', 'disable (from ARC-NODE-1)', X),
    );
    expect(endedGrantsInHistory(text)).toEqual([]);
  });
});

describe('the list a node keeps', () => {
  it('keeps the first end of a grant, oldest first', () => {
    expect(
      mergeEndedGrants(
        NOW,
        [ended(X, minutes(-5), 'revoked')],
        [ended(X.toUpperCase(), minutes(-10), 'disabled'), ended(Y, minutes(-20), 'expired')],
      ),
    ).toEqual([ended(Y, minutes(-20), 'expired'), ended(X.toUpperCase(), minutes(-10), 'disabled')]);
  });

  it('drops an entry once no grant with its id can still be valid (14 days plus a day), not before', () => {
    const list = [ended(X, days(-15), 'revoked'), ended(Y, minutes(-(15 * 24 * 60) + 1), 'revoked')];
    expect(mergeEndedGrants(NOW, list).map((entry) => entry.grantId)).toEqual([Y]);
  });

  it(`keeps at most ${MAX_ENDED_GRANTS} entries, the newest`, () => {
    const many = Array.from({ length: MAX_ENDED_GRANTS + 3 }, (_, index) => ended(`grant-${index}`, minutes(-index), 'replaced'));
    const kept = mergeEndedGrants(NOW, many);
    expect(kept).toHaveLength(MAX_ENDED_GRANTS);
    expect(kept.map((entry) => entry.grantId)).not.toContain(`grant-${MAX_ENDED_GRANTS + 2}`);
    expect(kept.at(-1)?.grantId).toBe('grant-0');
  });

  it("lifts only the update's own disable: within 15 minutes before the update", () => {
    const list = [ended(X, minutes(-14), 'disabled'), ended(Y, minutes(-16), 'disabled'), ended('c3', minutes(-1), 'revoked')];
    expect(withoutUpdateDisable(list, NOW).map((entry) => entry.grantId)).toEqual([Y, 'c3']);
  });

  it('stops a grant it lists from being in force, but names no grant whose own expiry passed', () => {
    const list = [ended(X, minutes(-5), 'revoked')];
    expect(grantInForce({ ...withGrant(grant(X)), endedGrants: list }, NOW)).toBeUndefined();
    expect(grantInForce({ ...withGrant(grant(Y)), endedGrants: list }, NOW)).toEqual(grant(Y));
    expect(endedGrantBlocking(grant(X.toUpperCase()), list, NOW)).toEqual(list[0]);
    expect(endedGrantBlocking(grant(X, minutes(-1)), list, NOW)).toBeUndefined();
  });

  it('is written in the record only when there is one, and a record whose list is not one is unreadable (access off)', () => {
    const record: DesiredRecord = { ...withGrant(grant(Y)), endedGrants: [ended(X, minutes(-5), 'replaced', Y)] };
    expect(parseDesiredRecord(serializeDesiredRecord(record))).toEqual({ record });
    expect(JSON.parse(serializeDesiredRecord(withGrant(null)))).toEqual({
      schemaVersion: 1,
      enabled: true,
      retentionDays: 30,
      grant: null,
    });
    const bad = JSON.parse(serializeDesiredRecord(record));
    bad.endedGrants[0].reason = 'forgiven';
    const read = parseDesiredRecord(JSON.stringify(bad));
    expect(read.record.grant).toBeNull();
    expect(read.problem).toContain('endedGrants[0] is not an ended grant');
  });

  it('refuses settings carrying an ended grant with exit 53, naming the field, the grant, when and why, and the fix', () => {
    let error: unknown;
    try {
      refuseEndedGrant(ended(X, minutes(-5), 'replaced', Y));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).exitCode).toBe(53);
    expect((error as ConfigurationError).message).toBe(
      `Invalid setting 'access.grantId': received "${X}", a grant that ended at 2026-11-24T19:55:00Z because grant ${Y} replaced it; a grant that ended never gives access again. ` +
        'Accepted: a new grant: grant access again, which records a new consent under a new grantId (or set access.level to None).',
    );
  });
});
