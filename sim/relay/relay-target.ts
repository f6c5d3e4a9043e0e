/** Where a handshake points: '/$hc/{name}[/suffix]?query' on a host this relay serves. */
import type { IncomingMessage } from 'http';

export interface RelayTarget {
  /** The hybrid connection's name, URL-decoded. */
  name: string;
  /** The path after '/$hc/' as the client wrote it: '{name}[/suffix]'. */
  rawPath: string;
  hasSuffix: boolean;
  query: URLSearchParams;
}

const HC_PATH = /^\/(?:\$|%24)hc\/([^/?#]+)(\/[^?#]*)?$/i;
/** The names the relay's certificate carries: a client that dials anything else reached no namespace. */
const SERVED_HOSTNAMES = new Set(['127.0.0.1', 'localhost']);

export function queryOf(requestUrl: string | undefined): URLSearchParams {
  const url = requestUrl ?? '/';
  const mark = url.indexOf('?');
  return new URLSearchParams(mark < 0 ? '' : url.slice(mark + 1));
}

export function parseRelayTarget(requestUrl: string | undefined): RelayTarget | undefined {
  const url = requestUrl ?? '/';
  const mark = url.indexOf('?');
  const match = HC_PATH.exec(mark < 0 ? url : url.slice(0, mark));
  if (!match) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  const suffix = match[2] ?? '';
  return { name, rawPath: `${match[1]}${suffix}`, hasSuffix: suffix.replace(/\/+$/, '') !== '', query: queryOf(url) };
}

/** The Host header's name, lower case, when it is one this relay serves. */
export function servedHostname(request: IncomingMessage): string | undefined {
  const host = request.headers.host;
  if (!host) return undefined;
  try {
    const hostname = new URL(`https://${host}`).hostname.toLowerCase();
    return SERVED_HOSTNAMES.has(hostname) ? hostname : undefined;
  } catch {
    return undefined;
  }
}
