import { kindOfStatus, RelayConnectError, transportFailure } from '../../channel/relay/relay-error';

describe('kindOfStatus', () => {
  it('tells "no such hybrid connection" from "no listener connected" by the 404 text', () => {
    expect(kindOfStatus(404, 'Endpoint does not exist. TrackingId:0c1f, SystemTracker:ns:HybridConnection:hc')).toBe('no-endpoint');
    expect(kindOfStatus(404, 'There are no listeners connected for the endpoint. TrackingId:77aa')).toBe('no-listener');
    expect(kindOfStatus(404, 'ConnectionNotEstablished')).toBe('not-established');
    expect(kindOfStatus(404, '')).toBe('no-endpoint');
  });

  it('maps the token refusals, the reject answer and server errors', () => {
    expect(kindOfStatus(401, 'Unauthorized')).toBe('unauthorized');
    expect(kindOfStatus(403, 'Forbidden')).toBe('forbidden');
    expect(kindOfStatus(403, "QuotaExceeded: the hybrid connection 'hc' already has 25 listeners")).toBe('quota-exceeded');
    expect(kindOfStatus(403, "EntityDisabled: the hybrid connection 'hc' is disabled")).toBe('disabled');
    expect(kindOfStatus(410, 'Gone')).toBe('gone');
    expect(kindOfStatus(504, 'Gateway Timeout')).toBe('not-established');
    expect(kindOfStatus(500, 'Internal Server Error')).toBe('server-error');
    expect(kindOfStatus(429, 'Too Many Requests')).toBe('refused');
  });
});

describe('transportFailure', () => {
  it('names an untrusted certificate as a TLS failure with what to check', () => {
    const error = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const failure = transportFailure(error, 'wss://ns.example/$hc/hc');
    expect(failure).toMatchObject({ kind: 'tls', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    expect(failure.message).toMatch(/wss:\/\/ns\.example\/\$hc\/hc.*unable to verify the first certificate.*not trusted.*trusted CAs/);
  });

  it("names a protocol version refusal as TLS below 1.2, with OpenSSL's reason", () => {
    const error = Object.assign(
      new Error(
        'write EPROTO 80ACE89DE37F0000:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 70',
      ),
      { code: 'EPROTO' },
    );
    const failure = transportFailure(error, 'wss://ns.example/$hc/hc');
    expect(failure.kind).toBe('tls');
    expect(failure.message).toBe(
      'TLS to wss://ns.example/$hc/hc failed (EPROTO: tlsv1 alert protocol version): TLS 1.2 or later could not be negotiated. The relay (or a proxy inspecting TLS) must offer TLS 1.2+.',
    );
  });

  it('names refused connections as network failures', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(transportFailure(error, 'wss://127.0.0.1:1/$hc/hc')).toMatchObject({ kind: 'network', code: 'ECONNREFUSED' });
  });

  it('redacts whatever the message carried', () => {
    const error = new Error('Invalid URL: wss://ns.example/$hc/hc?sb-hc-token=SharedAccessSignature%20sr%3Dx%26sig%3DSECRET%26se%3D1');
    const failure = transportFailure(error, 'wss://ns.example/$hc/hc');
    expect(failure.message).not.toContain('SECRET');
    expect(new RelayConnectError('refused', 'sig=SECRET&se=1').message).toBe('sig=[redacted]&se=1');
  });
});
