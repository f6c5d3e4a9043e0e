import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { bypassesProxy, chooseProxy, defaultArcAgentConfigFile, readArcAgentProxy } from '../../channel/relay/proxy-settings';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'proxy-settings-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function agentConfig(content: string): string {
  const file = path.join(dir, 'localconfig.json');
  writeFileSync(file, content);
  return file;
}

describe('chooseProxy', () => {
  const host = 'contoso.servicebus.windows.net';

  it('goes direct when nothing is configured', () => {
    expect(chooseProxy(host, 443, { env: {}, arcAgentConfigFile: null })).toBeNull();
  });

  it('uses HTTPS_PROXY (or https_proxy), reading a bare host:port as http', () => {
    expect(chooseProxy(host, 443, { env: { HTTPS_PROXY: 'http://proxy.corp:3128' }, arcAgentConfigFile: null })).toMatchObject({
      origin: 'environment',
      url: new URL('http://proxy.corp:3128'),
    });
    expect(chooseProxy(host, 443, { env: { https_proxy: 'proxy.corp:8080' }, arcAgentConfigFile: null })?.url.href).toBe(
      'http://proxy.corp:8080/',
    );
  });

  it('skips the environment proxy for hosts NO_PROXY names', () => {
    const env = { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: 'localhost, .servicebus.windows.net' };
    expect(chooseProxy(host, 443, { env, arcAgentConfigFile: null })).toBeNull();
    expect(chooseProxy('management.azure.com', 443, { env, arcAgentConfigFile: null })?.origin).toBe('environment');
  });

  it("prefers the Arc agent's proxy.url to the environment, as the agent itself does", () => {
    const file = agentConfig(JSON.stringify({ 'proxy.url': 'http://arc-proxy.corp:8080', 'proxy.bypass': [] }));
    expect(chooseProxy(host, 443, { env: { HTTPS_PROXY: 'http://env-proxy:1' }, arcAgentConfigFile: file })).toMatchObject({
      origin: 'arc-agent',
      url: new URL('http://arc-proxy.corp:8080'),
    });
  });

  it('prefers an explicit proxy to both, and null forces a direct connection', () => {
    const file = agentConfig(JSON.stringify({ 'proxy.url': 'http://arc-proxy.corp:8080' }));
    expect(
      chooseProxy(host, 443, { explicit: 'http://mine:9', env: { HTTPS_PROXY: 'http://env:1' }, arcAgentConfigFile: file })?.origin,
    ).toBe('option');
    expect(chooseProxy(host, 443, { explicit: null, env: { HTTPS_PROXY: 'http://env:1' }, arcAgentConfigFile: file })).toBeNull();
  });

  it('fails closed, naming the file, when the agent config cannot be read (never bypasses a configured proxy)', () => {
    const file = agentConfig('{ "proxy.url": ');
    expect(() => chooseProxy(host, 443, { env: {}, arcAgentConfigFile: file })).toThrow(
      expect.objectContaining({ kind: 'proxy', message: expect.stringContaining(file) }),
    );
  });

  it('refuses proxies it cannot tunnel through without quoting their credentials', () => {
    let message = '';
    try {
      chooseProxy(host, 443, { explicit: 'socks5://bob:hunter2@proxy.corp:1080' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/socks5:\/\/proxy.corp:1080'. Only http:\/\/ proxies/);
    expect(message).not.toContain('hunter2');
  });
});

describe('the Arc agent config', () => {
  it('reads the flat proxy.url key, tolerating a byte-order mark, and nothing when it is absent', () => {
    expect(readArcAgentProxy(agentConfig('\uFEFF{"proxy.url":"http://p:1"}'))).toBe('http://p:1');
    expect(readArcAgentProxy(agentConfig('{"incomingconnections.ports":["22"]}'))).toBeUndefined();
    expect(readArcAgentProxy(path.join(dir, 'missing.json'))).toBeUndefined();
  });

  it('lives under ProgramData on Windows and is not looked for elsewhere', () => {
    expect(defaultArcAgentConfigFile({ ProgramData: 'D:\\PD' }, 'win32')).toBe(
      'D:\\PD\\AzureConnectedMachineAgent\\Config\\localconfig.json',
    );
    expect(defaultArcAgentConfigFile({}, 'linux')).toBeNull();
  });
});

describe('bypassesProxy', () => {
  it('matches *, suffixes at a dot, exact hosts, ports and IP addresses exactly', () => {
    expect(bypassesProxy('a.example', 443, '*')).toBe(true);
    expect(bypassesProxy('ns.servicebus.windows.net', 443, 'servicebus.windows.net')).toBe(true);
    expect(bypassesProxy('ns.servicebus.windows.net', 443, '*.windows.net')).toBe(true);
    expect(bypassesProxy('evilservicebus.windows.net.attacker', 443, 'servicebus.windows.net')).toBe(false);
    expect(bypassesProxy('ns.example', 443, 'ns.example:8443')).toBe(false);
    expect(bypassesProxy('ns.example', 8443, 'ns.example:8443')).toBe(true);
    expect(bypassesProxy('10.1.2.3', 443, '2.3')).toBe(false);
    expect(bypassesProxy('127.0.0.1', 443, '127.0.0.1')).toBe(true);
  });
});
