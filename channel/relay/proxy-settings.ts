/**
 * Which HTTP proxy, if any, carries the relay connections. In order:
 * 1. an explicit proxy URL (an option of the caller);
 * 2. the Azure Connected Machine agent's `proxy.url` (set by `azcmagent config set proxy.url`),
 *    read from `%ProgramData%\AzureConnectedMachineAgent\Config\localconfig.json`, a JSON object with a
 *    flat `"proxy.url"` key. Microsoft documents the command, not the file: the layout is the one
 *    other Arc extensions read, so an explicit proxy stays available when it differs. Arc's own rule
 *    puts the agent's setting before the environment;
 * 3. `HTTPS_PROXY` / `https_proxy`, unless `NO_PROXY` / `no_proxy` names the relay host.
 * Only `http://` proxies are supported (CONNECT tunnels; TLS runs end to end inside them).
 */
import { existsSync, readFileSync } from 'fs';
import { isIP } from 'net';
import path from 'path';
import { RelayConnectError } from './relay-error';

export type ProxyOrigin = 'option' | 'arc-agent' | 'environment';

export interface ProxyChoice {
  url: URL;
  origin: ProxyOrigin;
}

export interface ProxySources {
  /** A proxy URL given by the caller; `null` forces a direct connection. */
  explicit?: string | null;
  /** The Arc agent's local config file; undefined means the default for this platform, null means none. */
  arcAgentConfigFile?: string | null;
  env?: NodeJS.ProcessEnv;
}

/** `%ProgramData%\AzureConnectedMachineAgent\Config\localconfig.json` on Windows; none elsewhere. */
export function defaultArcAgentConfigFile(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | null {
  if (platform !== 'win32') return null;
  return path.win32.join(
    env.ProgramData ?? env.PROGRAMDATA ?? 'C:\\ProgramData',
    'AzureConnectedMachineAgent',
    'Config',
    'localconfig.json',
  );
}

/** The proxy for a connection to host:port, or null for a direct one. Throws RelayConnectError('proxy') on a bad setting. */
export function chooseProxy(host: string, port: number, sources: ProxySources = {}): ProxyChoice | null {
  if (sources.explicit === null) return null;
  if (sources.explicit !== undefined) return { url: parseProxyUrl(sources.explicit, 'the proxy option'), origin: 'option' };

  const env = sources.env ?? process.env;
  const configFile = sources.arcAgentConfigFile === undefined ? defaultArcAgentConfigFile(env) : sources.arcAgentConfigFile;
  const agentProxy = configFile ? readArcAgentProxy(configFile) : undefined;
  if (agentProxy) return { url: parseProxyUrl(agentProxy, `proxy.url in ${configFile}`), origin: 'arc-agent' };

  const fromEnv = env.HTTPS_PROXY || env.https_proxy;
  if (!fromEnv) return null;
  if (bypassesProxy(host, port, env.NO_PROXY ?? env.no_proxy ?? '')) return null;
  return { url: parseProxyUrl(fromEnv, 'HTTPS_PROXY'), origin: 'environment' };
}

/** The agent's `proxy.url`, or undefined when the file or the setting is absent. */
export function readArcAgentProxy(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    // Fail closed: a proxy the owner configured must not be bypassed because its file is unreadable.
    throw new RelayConnectError(
      'proxy',
      `Cannot read the Arc agent's proxy setting from ${file} (${(error as Error).message}). Repair it with 'azcmagent config set proxy.url <url>' or give the proxy explicitly.`,
    );
  }
  const value = typeof config === 'object' && config !== null ? (config as Record<string, unknown>)['proxy.url'] : undefined;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** An http:// proxy URL; a bare `host:port` is read as http. The error never quotes credentials. */
export function parseProxyUrl(value: string, where: string): URL {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RelayConnectError('proxy', `The proxy in ${where} is not a URL. Give it as http://host:port.`);
  }
  if (url.protocol !== 'http:' || !url.hostname) {
    throw new RelayConnectError(
      'proxy',
      `The proxy in ${where} is '${url.protocol}//${url.host}'. Only http:// proxies (CONNECT) are supported: give it as http://host:port.`,
    );
  }
  return url;
}

/** NO_PROXY: '*', host names (a leading '.' or '*.' matches subdomains), optional ':port', IP addresses. */
export function bypassesProxy(host: string, port: number, noProxy: string): boolean {
  const target = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    let name = entry;
    let entryPort: number | undefined;
    const portMatch = /^(.*):(\d+)$/.exec(entry);
    if (portMatch && isIP(entry) !== 6) {
      name = portMatch[1] as string;
      entryPort = Number(portMatch[2]);
    }
    if (entryPort !== undefined && entryPort !== port) continue;
    name = name.replace(/^\*?\./, '');
    if (target === name || (isIP(target) === 0 && target.endsWith(`.${name}`))) return true;
  }
  return false;
}
