/**
 * The HTTPS listener: turns each request into an ArmRequest, sends the handler's ArmReply as JSON
 * with ARM's request-id headers, and hands both to the traffic recorder.
 */
import { randomUUID } from 'crypto';
import type http from 'http';
import https from 'https';
import type { AddressInfo } from 'net';
import type { ArmReply, ArmRequest } from './arm-reply';
import type { ServerCertificate } from './tls-certificate';
import type { TrafficRecord } from './types';

export interface ArmHttpsServer {
  /** 'https://127.0.0.1:<port>' */
  endpoint: string;
  close(): Promise<void>;
}

export async function startArmHttpsServer(
  certificate: ServerCertificate,
  handle: (request: ArmRequest) => ArmReply,
  record: (entry: TrafficRecord) => void,
): Promise<ArmHttpsServer> {
  let endpoint = '';
  const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (incoming, outgoing) => {
    readBody(incoming).then(
      (text) => {
        const url = new URL(incoming.url ?? '/', endpoint);
        const headers = flatHeaders(incoming.headers);
        const { body, unreadableBody } = parseJson(text);
        const request: ArmRequest = {
          method: (incoming.method ?? 'GET').toUpperCase(),
          path: decodePath(url.pathname),
          query: url.searchParams,
          headers,
          body,
          unreadableBody,
        };
        const reply = safely(handle, request);
        const responseHeaders = send(outgoing, reply);
        record({
          method: request.method,
          url: url.toString(),
          requestHeaders: headers,
          requestBody: body ?? unreadableBody,
          status: reply.status,
          responseHeaders,
          responseBody: reply.body,
        });
      },
      () => outgoing.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    async close() {
      // Clients keep connections alive; close them, or close() waits for them.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function readBody(incoming: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    incoming.on('error', reject);
  });
}

function parseJson(text: string): { body: unknown; unreadableBody?: string } {
  if (text.trim() === '') return { body: undefined };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { body: undefined, unreadableBody: text };
  }
}

/** A handler that throws is a defect in the emulator: say so as ARM would, with a 500. */
function safely(handle: (request: ArmRequest) => ArmReply, request: ArmRequest): ArmReply {
  try {
    return handle(request);
  } catch (error) {
    return {
      status: 500,
      body: { error: { code: 'InternalServerError', message: `The emulator failed: ${(error as Error).stack ?? String(error)}` } },
    };
  }
}

function send(outgoing: http.ServerResponse, reply: ArmReply): Record<string, string> {
  const requestId = randomUUID();
  const headers: Record<string, string> = { 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': requestId };
  for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
  const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
  if (reply.body !== undefined) headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = String(Buffer.byteLength(payload));
  outgoing.writeHead(reply.status, headers);
  outgoing.end(payload);
  return headers;
}

function flatHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function decodePath(pathname: string): string {
  return pathname
    .split('/')
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join('/');
}
