/**
 * The Azure Arc agent's managed identity endpoint (HIMDS), over plain HTTP as the agent serves it:
 * a request without credentials gets 401 naming a key file in WWW-Authenticate; a request with
 * `Authorization: Basic <that file's content>` gets a token. @azure/identity reads the key file only
 * from the agent's own folder, so the emulator writes one there and removes it at close.
 */
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import http from 'http';
import type { AddressInfo } from 'net';
import path from 'path';
import type { TokenIssuer } from './access-tokens';

/** The only folder @azure/identity accepts a challenge key file from on Linux. */
export const ARC_TOKENS_FOLDER = '/var/opt/azcmagent/tokens';
export const IDENTITY_TOKEN_PATH = '/metadata/identity/oauth2/token';

export interface ArcIdentityEndpoint {
  /** 'http://127.0.0.1:<port>' */
  origin: string;
  close(): Promise<void>;
}

export async function startArcIdentityEndpoint(tokens: TokenIssuer): Promise<ArcIdentityEndpoint> {
  const challenge = await writeChallengeKey();
  const server = http.createServer((request, response) => {
    const { status, headers, body } = answer(request, tokens, challenge);
    response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (challenge.ok) await fs.rm(challenge.keyFile, { force: true });
    },
  };
}

type Challenge = { ok: true; keyFile: string; secret: string } | { ok: false; reason: string };

/** A fresh random secret in a `.key` file; an operator without rights to the folder still gets the ARM endpoint. */
async function writeChallengeKey(): Promise<Challenge> {
  const keyFile = path.join(ARC_TOKENS_FOLDER, `arm-emulator-${process.pid}-${randomBytes(4).toString('hex')}.key`);
  const secret = randomBytes(32).toString('hex');
  try {
    await fs.mkdir(ARC_TOKENS_FOLDER, { recursive: true });
    await fs.writeFile(keyFile, secret, { mode: 0o600 });
    return { ok: true, keyFile, secret };
  } catch (error) {
    return {
      ok: false,
      reason: `the emulator could not write its challenge key in ${ARC_TOKENS_FOLDER} (${(error as Error).message}); run it as root`,
    };
  }
}

interface IdentityAnswer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

function answer(request: http.IncomingMessage, tokens: TokenIssuer, challenge: Challenge): IdentityAnswer {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (request.method !== 'GET' || url.pathname !== IDENTITY_TOKEN_PATH) {
    return { status: 404, body: { error: 'not_found', error_description: `no identity service at ${request.method} ${url.pathname}` } };
  }
  // The agent refuses requests that do not say they are metadata requests (a guard against SSRF).
  if (request.headers.metadata !== 'true') {
    return { status: 400, body: { error: 'invalid_request', error_description: 'Required metadata header not specified' } };
  }
  const resource = url.searchParams.get('resource');
  if (!url.searchParams.get('api-version') || !resource) {
    return { status: 400, body: { error: 'invalid_request', error_description: 'api-version and resource are required' } };
  }
  if (!challenge.ok) return { status: 500, body: { error: 'unavailable', error_description: challenge.reason } };
  if (request.headers.authorization !== `Basic ${challenge.secret}`) {
    return {
      status: 401,
      headers: { 'WWW-Authenticate': `Basic realm=${challenge.keyFile}` },
      body: { error: 'unauthorized', error_description: 'Read the key file named in WWW-Authenticate.' },
    };
  }
  const issued = tokens.issue(resource);
  return {
    status: 200,
    body: {
      access_token: issued.token,
      expires_in: String(issued.expiresOn - Math.floor(Date.now() / 1000)),
      expires_on: String(issued.expiresOn),
      not_before: String(Math.floor(Date.now() / 1000)),
      resource: issued.resource,
      token_type: 'Bearer',
    },
  };
}
