/** Everything the CLI checks offline: each refusal names the option, the value and the fix. */
import { InputError } from '../../cli/errors';
import { parseGrantLevel } from '../../cli/input/access-level';
import { checkExtensionVersion, checkResourceGroup, checkSubscription, parseMachineArgument } from '../../cli/input/azure-names';
import { parseDurationMs } from '../../cli/input/duration';
import { parseGrantDuration, parseTimeout } from '../../cli/input/grant-duration';
import { parseConcurrency, parseRetentionDays } from '../../cli/input/numbers';
import { parseOutputFormat } from '../../cli/input/output-format';
import { matchesTags, parseTag } from '../../cli/input/tags';

const SUB = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function refusal(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return error as InputError;
  }
  throw new Error('expected a refusal');
}

describe('durations', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['8h', 8 * 3_600_000],
    ['2d', 2 * 86_400_000],
    ['1h30m', 90 * 60_000],
    ['45s', 45_000],
    ['500ms', 500],
    ['PT8H', 8 * 3_600_000],
    ['P2D', 2 * 86_400_000],
    ['P1DT12H', 36 * 3_600_000],
    ['PT90M', 90 * 60_000],
    ['pt1h', 3_600_000],
    ['P1W', 7 * 86_400_000],
  ])('reads %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', '8', 'h', 'eight hours', 'P', 'PT', 'P1M', 'P1Y', '-1h', '1x'])('does not read %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('accepts grants from exactly 60 minutes to exactly 14 days', () => {
    expect(parseGrantDuration('60m')).toBe(3_600_000);
    expect(parseGrantDuration('14d')).toBe(14 * 86_400_000);
    expect(parseGrantDuration('P14D')).toBe(14 * 86_400_000);
  });

  it('refuses a grant outside the range, naming the value and the range', () => {
    const short = refusal(() => parseGrantDuration('59m'));
    expect(short.message).toContain('--duration');
    expect(short.message).toContain('"59m"');
    expect(short.message).toMatch(/60 minutes to 14 days/);
    expect(refusal(() => parseGrantDuration('15d')).message).toContain('"15d"');
    expect(refusal(() => parseGrantDuration('PT14D')).message).toMatch(/PT8H/);
    expect(refusal(() => parseGrantDuration('soon')).message).toMatch(/--duration: received "soon"/);
  });

  it('reads the per-operation timeout, 1 s to 1 day', () => {
    expect(parseTimeout('15m')).toBe(900_000);
    expect(refusal(() => parseTimeout('0s')).message).toContain('--timeout');
    expect(refusal(() => parseTimeout('2d')).message).toContain('"2d"');
  });
});

describe('access levels', () => {
  it('accepts the levels and the alias, case-insensitively, and sends the canonical name', () => {
    expect(parseGrantLevel('Diagnostics')).toBe('Diagnostics');
    expect(parseGrantLevel('diagnosticsandrepair')).toBe('DiagnosticsAndRepair');
    expect(parseGrantLevel('DiagnosticsRepair')).toBe('DiagnosticsAndRepair');
    expect(parseGrantLevel(' DIAGNOSTICS ')).toBe('Diagnostics');
    expect(parseGrantLevel('diagnosticsREPAIR')).toBe('DiagnosticsAndRepair');
  });

  it('refuses anything else listing the accepted values', () => {
    const error = refusal(() => parseGrantLevel('Admin'));
    expect(error.message).toBe('--level: received "Admin". Accepted levels: Diagnostics, DiagnosticsAndRepair (alias DiagnosticsRepair).');
    for (const none of ['None', 'none', 'NONE'])
      expect(refusal(() => parseGrantLevel(none)).message).toMatch(/To end access use the revoke command\.$/);
  });
});

describe('Azure names', () => {
  it('reads bare names in the resource group and subscription given', () => {
    expect(parseMachineArgument('web-01.contoso_x', { subscriptionId: SUB, resourceGroup: 'rg' })).toEqual({
      ok: true,
      ref: { subscriptionId: SUB, resourceGroup: 'rg', name: 'web-01.contoso_x' },
    });
  });

  it('reads full ARM ids, whatever the casing of the fixed parts', () => {
    const id = `/SUBSCRIPTIONS/${SUB.toUpperCase()}/resourcegroups/My.RG(1)/providers/microsoft.hybridcompute/Machines/node1`;
    expect(parseMachineArgument(id, {})).toEqual({ ok: true, ref: { subscriptionId: SUB, resourceGroup: 'My.RG(1)', name: 'node1' } });
  });

  it.each([
    ['a'.repeat(55), {}, /1 to 54 letters/],
    ['bad name', {}, /not a valid Arc machine name/],
    ['node$', {}, /not a valid Arc machine name/],
    ['node1', { subscriptionId: SUB }, /add --resource-group/],
    ['node1', { resourceGroup: 'rg' }, /AZURE_SUBSCRIPTION_ID/],
    ['/subscriptions/x/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/n', {}, /not a GUID/],
    ['/subscriptions/x/resourceGroups/rg', {}, /not an Arc machine id/],
  ])('refuses %j with the reason', (text, defaults, reason) => {
    const parsed = parseMachineArgument(text, defaults);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(reason);
  });

  it('checks resource group names with the resource manager rule', () => {
    expect(checkResourceGroup('rg-prod_(eu).1')).toBe('rg-prod_(eu).1');
    expect(refusal(() => checkResourceGroup('ends.')).message).toMatch(/does not end with a dot/);
    expect(refusal(() => checkResourceGroup('a'.repeat(91))).message).toMatch(/1 to 90/);
    expect(refusal(() => checkResourceGroup('a/b')).message).toContain('--resource-group: received "a/b"');
  });

  it('checks subscription ids are GUIDs', () => {
    expect(checkSubscription(SUB.toUpperCase())).toBe(SUB);
    expect(refusal(() => checkSubscription('my-subscription')).message).toMatch(
      /--subscription: received "my-subscription". A subscription id is a GUID/,
    );
  });

  it('checks target versions look like extension versions', () => {
    expect(checkExtensionVersion('1.0.1')).toBe('1.0.1');
    expect(checkExtensionVersion('1.10')).toBe('1.10');
    expect(checkExtensionVersion('1.2.3.4')).toBe('1.2.3.4');
    for (const bad of ['1', 'v1.0', '1.0.x', 'latest', '01.0'])
      expect(refusal(() => checkExtensionVersion(bad)).message).toContain('--version');
  });
});

describe('tags, output format and numbers', () => {
  it('reads key=value tags; the value may contain =', () => {
    expect(parseTag('env=prod')).toEqual({ key: 'env', value: 'prod' });
    expect(parseTag('query=a=b')).toEqual({ key: 'query', value: 'a=b' });
    expect(parseTag('empty=')).toEqual({ key: 'empty', value: '' });
    expect(refusal(() => parseTag('env')).message).toMatch(/--tag: received "env". Give a tag as key=value/);
    expect(refusal(() => parseTag('=prod')).message).toContain('"=prod"');
  });

  it('matches every tag: names case-insensitively, values exactly', () => {
    const filters = [parseTag('Env=prod'), parseTag('tier=web')];
    expect(matchesTags({ env: 'prod', TIER: 'web', other: 'x' }, filters)).toBe(true);
    expect(matchesTags({ env: 'Prod', tier: 'web' }, filters)).toBe(false);
    expect(matchesTags({ env: 'prod' }, filters)).toBe(false);
    expect(matchesTags(undefined, [])).toBe(true);
  });

  it('reads the output format', () => {
    expect(parseOutputFormat('JSON')).toBe('json');
    expect(refusal(() => parseOutputFormat('xml')).message).toBe('--output: received "xml". Accepted formats: table, json, yaml.');
  });

  it('reads retention days and concurrency', () => {
    expect(parseRetentionDays('30')).toBe(30);
    expect(refusal(() => parseRetentionDays('91')).message).toMatch(/1 to 90/);
    expect(refusal(() => parseRetentionDays('7.5')).message).toContain('"7.5"');
    expect(parseConcurrency('1')).toBe(1);
    expect(refusal(() => parseConcurrency('0')).message).toContain('--concurrency');
  });
});
