/** The policies added to the SDK's pipeline, each against a stand-in for the rest of the pipeline. */
import {
  createHttpHeaders,
  createPipelineRequest,
  RestError,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { apiVersionPolicy, withApiVersion } from '../../cli/arm/api-version-policy';
import { backoffMs, conflictRetryPolicy } from '../../cli/arm/conflict-retry-policy';
import { AUTOMATIC_UPGRADE_HEADER, extensionBodyPolicy } from '../../cli/arm/extension-body-policy';
import { retryAfterMs } from '../../cli/arm/retry-after';
import { throttleSignalPolicy } from '../../cli/arm/throttle-signal-policy';
import { whatIfPolicy, type RecordedRequest } from '../../cli/arm/what-if-policy';

const EXTENSION_URL =
  'https://management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m/extensions/WindowsRemoteSupport?api-version=2021-05-20';

function answer(request: PipelineRequest, status: number, headers: Record<string, string> = {}): PipelineResponse {
  return { request, status, headers: createHttpHeaders(headers), bodyAsText: '' };
}

describe('api-version', () => {
  it("replaces the SDK's pinned version on every request, leaving the rest of the URL alone", () => {
    expect(withApiVersion('https://x/a?$expand=instanceView&api-version=2021-05-20', '2024-07-10')).toBe(
      'https://x/a?$expand=instanceView&api-version=2024-07-10',
    );
    expect(withApiVersion('https://x/operationStatus/1', '2024-07-10')).toBe('https://x/operationStatus/1?api-version=2024-07-10');
    expect(withApiVersion('https://x/a?API-VERSION=1&b=2#f', 'v')).toBe('https://x/a?b=2&api-version=v#f');
  });

  it('does so as a policy', async () => {
    const request = createPipelineRequest({ url: EXTENSION_URL });
    await apiVersionPolicy().sendRequest(request, async (sent) => answer(sent, 200));
    expect(request.url).toMatch(/\?api-version=2024-07-10$/);
  });
});

describe('enableAutomaticUpgrade', () => {
  it('is put back into an extension PUT body when asked for, and the marker header removed', async () => {
    const request = createPipelineRequest({
      url: EXTENSION_URL,
      method: 'PUT',
      body: JSON.stringify({ location: 'x', properties: { publisher: 'p' } }),
    });
    request.headers.set(AUTOMATIC_UPGRADE_HEADER, 'true');
    let sent: PipelineRequest | undefined;
    await extensionBodyPolicy().sendRequest(request, async (next) => {
      sent = next;
      return answer(next, 200);
    });
    expect(JSON.parse(sent!.body as string)).toEqual({ location: 'x', properties: { publisher: 'p', enableAutomaticUpgrade: true } });
    expect(sent!.headers.has(AUTOMATIC_UPGRADE_HEADER)).toBe(false);
  });

  it('leaves bodies alone when not asked, and other resources alone', async () => {
    const body = JSON.stringify({ properties: {} });
    const plain = createPipelineRequest({ url: EXTENSION_URL, method: 'PATCH', body });
    await extensionBodyPolicy().sendRequest(plain, async (next) => answer(next, 200));
    expect(plain.body).toBe(body);
    const machine = createPipelineRequest({ url: EXTENSION_URL.replace('/extensions/WindowsRemoteSupport', ''), method: 'PUT', body });
    machine.headers.set(AUTOMATIC_UPGRADE_HEADER, 'true');
    await extensionBodyPolicy().sendRequest(machine, async (next) => answer(next, 200));
    expect(machine.body).toBe(body);
  });
});

describe('409 Conflict', () => {
  it('is retried with Retry-After when given, then succeeds', async () => {
    const waits: number[] = [];
    const statuses = [409, 409, 200];
    const request = createPipelineRequest({ url: EXTENSION_URL, method: 'PATCH' });
    const response = await conflictRetryPolicy({ onConflict: (ms) => waits.push(ms), baseDelayMs: 1 }).sendRequest(request, async (next) =>
      answer(next, statuses.shift()!, { 'retry-after-ms': '5' }),
    );
    expect(response.status).toBe(200);
    expect(waits).toEqual([5, 5]);
  });

  it('is retried when the pipeline throws it as a RestError, a bounded number of times', async () => {
    let calls = 0;
    const request = createPipelineRequest({ url: EXTENSION_URL, method: 'PATCH' });
    const conflict = () => new RestError('Conflict', { statusCode: 409, response: answer(request, 409) });
    await expect(
      conflictRetryPolicy({ maxRetries: 3, baseDelayMs: 1, maxDelayMs: 2 }).sendRequest(request, async () => {
        calls += 1;
        throw conflict();
      }),
    ).rejects.toThrow('Conflict');
    expect(calls).toBe(4);
  });

  it('backs off exponentially with jitter, capped', () => {
    expect(backoffMs(0, 1000, 30_000, () => 0)).toBe(500);
    expect(backoffMs(0, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffMs(3, 1000, 30_000, () => 1)).toBe(8000);
    expect(backoffMs(10, 1000, 30_000, () => 0.5)).toBe(22_500);
  });

  it("stops waiting when the operation's deadline passes", async () => {
    const request = createPipelineRequest({ url: EXTENSION_URL, method: 'PATCH', abortSignal: AbortSignal.timeout(20) });
    const started = Date.now();
    await expect(
      conflictRetryPolicy({ baseDelayMs: 60_000, maxDelayMs: 60_000 }).sendRequest(request, async (next) => answer(next, 409)),
    ).rejects.toBeDefined();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('passes every other answer through', async () => {
    const request = createPipelineRequest({ url: EXTENSION_URL });
    expect((await conflictRetryPolicy().sendRequest(request, async (next) => answer(next, 404))).status).toBe(404);
  });
});

describe('429 Too Many Requests', () => {
  it('is reported to the limiter with its Retry-After', async () => {
    const seen: Array<number | undefined> = [];
    const policy = throttleSignalPolicy((ms) => seen.push(ms));
    const request = createPipelineRequest({ url: EXTENSION_URL });
    await policy.sendRequest(request, async (next) => answer(next, 429, { 'retry-after': '3' }));
    await policy.sendRequest(request, async (next) => answer(next, 429));
    await policy.sendRequest(request, async (next) => answer(next, 200));
    expect(seen).toEqual([3000, undefined]);
  });

  it('Retry-After is read in seconds, milliseconds or as a date', () => {
    const at = (headers: Record<string, string>) =>
      retryAfterMs({ headers: createHttpHeaders(headers) }, () => Date.parse('2026-11-24T20:00:00Z'));
    expect(at({ 'retry-after': '2' })).toBe(2000);
    expect(at({ 'x-ms-retry-after-ms': '250' })).toBe(250);
    expect(at({ 'retry-after': 'Tue, 24 Nov 2026 20:00:05 GMT' })).toBe(5000);
    expect(at({})).toBeUndefined();
  });
});

describe('what-if', () => {
  it('records writes with protected settings redacted and sends none of them', async () => {
    const recorded: RecordedRequest[] = [];
    const policy = whatIfPolicy((request) => recorded.push(request));
    const sent: string[] = [];
    const next = async (request: PipelineRequest) => {
      sent.push(request.method);
      return answer(request, 200);
    };
    const body = { properties: { settings: { a: 1 }, protectedSettings: { secret: 'do-not-show' } } };
    const put = await policy.sendRequest(createPipelineRequest({ url: EXTENSION_URL, method: 'PUT', body: JSON.stringify(body) }), next);
    await policy.sendRequest(createPipelineRequest({ url: EXTENSION_URL, method: 'DELETE' }), next);
    await policy.sendRequest(createPipelineRequest({ url: EXTENSION_URL, method: 'GET' }), next);
    expect(sent).toEqual(['GET']);
    expect(recorded).toEqual([
      { method: 'PUT', url: EXTENSION_URL, body: { properties: { settings: { a: 1 }, protectedSettings: '<redacted>' } } },
      { method: 'DELETE', url: EXTENSION_URL },
    ]);
    expect(put.status).toBe(200);
    expect(put.bodyAsText).not.toContain('do-not-show');
  });
});
