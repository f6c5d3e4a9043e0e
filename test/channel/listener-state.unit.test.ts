import { describeListenerState } from '../../channel/relay/listener-state';

describe('describeListenerState', () => {
  const at = '2026-01-01T00:00:00.000Z';

  it('says what the owner needs: the relay code, the reason and what happens next', () => {
    expect(
      describeListenerState({
        status: 'refused',
        reason: 'unauthorized',
        httpStatus: 401,
        nextAttemptAt: null,
        lastError: { kind: 'unauthorized', message: 'wss://ns/$hc/hc answered 401 Unauthorized', httpStatus: 401, at },
      }),
    ).toBe('refused (401 unauthorized): wss://ns/$hc/hc answered 401 Unauthorized; waiting for a new token');
    expect(
      describeListenerState({
        status: 'refused',
        reason: 'no-endpoint',
        httpStatus: 404,
        nextAttemptAt: '2026-01-01T00:01:00.000Z',
        lastError: { kind: 'no-endpoint', message: 'gone', httpStatus: 404, at },
      }),
    ).toBe('refused (404 no-endpoint): gone; next attempt at 2026-01-01T00:01:00.000Z');
    expect(describeListenerState({ status: 'connected', since: at, lastError: null })).toBe(`connected since ${at}`);
    expect(
      describeListenerState({ status: 'disconnected', nextAttemptAt: at, lastError: { kind: 'ping-timeout', message: 'No pong', at } }),
    ).toBe(`disconnected: No pong; next attempt at ${at}`);
    expect(describeListenerState({ status: 'connecting', attempt: 3, lastError: null })).toBe('connecting (attempt 3)');
  });
});
