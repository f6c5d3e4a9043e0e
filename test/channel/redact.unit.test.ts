import { redactSecrets } from '../../channel/relay/redact';
import { signSas } from '../../channel/relay/sas';

const token = signSas({
  resourceUri: 'http://ns.example/hc/',
  keyName: 'agent-listen',
  key: 'the-key',
  expiresAt: new Date(Date.UTC(2030, 0, 1)),
});
const signature = decodeURIComponent(/sig=([^&]+)/.exec(token)?.[1] ?? '');
const encodedSignature = /sig=([^&]+)/.exec(token)?.[1] ?? '';

function expectNoSignature(text: string): void {
  expect(text).not.toContain(signature);
  expect(text).not.toContain(encodedSignature);
  expect(text).not.toContain(encodeURIComponent(encodedSignature));
}

describe('redactSecrets', () => {
  it('hides the signature of a token and keeps what helps a diagnosis (audience, expiry, rule)', () => {
    const text = redactSecrets(`401 Unauthorized: received ${token}`);
    expectNoSignature(text);
    expect(text).toContain('sr=http%3A%2F%2Fns.example%2Fhc%2F');
    expect(text).toContain('se=1893456000');
    expect(text).toContain('skn=agent-listen');
  });

  it('hides a token carried URL-encoded in a query, whole', () => {
    const text = redactSecrets(`GET /$hc/hc?sb-hc-action=listen&sb-hc-token=${encodeURIComponent(token)}&sb-hc-id=1 failed`);
    expectNoSignature(text);
    expect(text).toContain('sb-hc-token=[redacted]&sb-hc-id=1');
  });

  it('hides a URL-encoded sig field met outside sb-hc-token', () => {
    expectNoSignature(redactSecrets(`echo: ${encodeURIComponent(token)}`));
  });

  it('hides the ServiceBusAuthorization header in a dumped request', () => {
    const text = redactSecrets(JSON.stringify({ headers: { ServiceBusAuthorization: token, Host: 'ns.example' } }));
    expectNoSignature(text);
    expect(text).not.toContain('SharedAccessSignature sr');
    expect(text).toContain('ns.example');
  });

  it('hides proxy credentials in a URL', () => {
    expect(redactSecrets('proxy http://alice:s3cret@proxy.corp:8080 refused')).toBe('proxy http://[redacted]@proxy.corp:8080 refused');
  });

  it('hides known secrets given to it, raw and URL-encoded', () => {
    const text = redactSecrets('key was k/+ey= or k%2F%2Bey%3D', ['k/+ey=']);
    expect(text).toBe('key was [redacted] or [redacted]');
  });

  it('leaves ordinary text alone', () => {
    expect(redactSecrets('wss://ns.example/$hc/hc answered 404 Endpoint does not exist')).toBe(
      'wss://ns.example/$hc/hc answered 404 Endpoint does not exist',
    );
  });
});
