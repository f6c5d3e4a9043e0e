import { connectUrl, hybridConnectionResource, listenUrl } from '../../channel/relay/endpoint';

const endpoint = { namespace: 'contoso.servicebus.windows.net', name: 'rs-node-1' };

describe('hybrid connection addresses', () => {
  it('builds the listen and connect URLs with the action and tracking id, and no token', () => {
    expect(listenUrl(endpoint, 'n1').href).toBe('wss://contoso.servicebus.windows.net/$hc/rs-node-1?sb-hc-action=listen&sb-hc-id=n1');
    expect(connectUrl(endpoint).href).toBe('wss://contoso.servicebus.windows.net/$hc/rs-node-1?sb-hc-action=connect');
    expect(listenUrl({ namespace: '127.0.0.1:8443', name: 'hc' }).href).toBe('wss://127.0.0.1:8443/$hc/hc?sb-hc-action=listen');
  });

  it('signs for the .NET form of the audience, without the port', () => {
    expect(hybridConnectionResource(endpoint)).toBe('http://contoso.servicebus.windows.net/rs-node-1/');
    expect(hybridConnectionResource({ namespace: '127.0.0.1:8443', name: 'hc' })).toBe('http://127.0.0.1/hc/');
  });

  it('refuses a namespace given as a URL and a name with a path, naming the value and the fix', () => {
    expect(() => listenUrl({ namespace: 'https://contoso.servicebus.windows.net', name: 'hc' })).toThrow(
      /Relay namespace: received 'https:\/\/contoso.servicebus.windows.net'. Give a host name/,
    );
    expect(() => connectUrl({ namespace: 'ns.example', name: 'hc/../other' })).toThrow(/Hybrid connection name: received 'hc\/..\/other'/);
    expect(() => connectUrl({ namespace: 'ns.example', name: '' })).toThrow(/Hybrid connection name/);
  });
});
