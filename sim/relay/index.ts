/**
 * A local stand-in for an Azure Relay namespace's Hybrid Connections, for tests (not shipped): TLS 1.2+
 * only, on 127.0.0.1, with the documented protocol enforced (listen, connect, accept and reject,
 * renewToken, SAS tokens, the 401/403/404 answers and their texts, single-use expiring rendezvous,
 * the listener quota, the service's close codes), fault switches and counters. It does not help:
 * token expiry never ends an established rendezvous, so tests prove that the agent does.
 *
 * Where the documentation is silent, it chose (and its tests pin):
 * - the 26th listener: 403 "QuotaExceeded: ..." (the status Service Bus gives an exceeded quota);
 * - a disabled hybrid connection: 403 "EntityDisabled: ..." to listeners and senders;
 * - an idle control channel (idleTimeoutMs): dropped without a close frame, as a load balancer does;
 * - a listener closing a rendezvous with any code, or none: the sender sees 1000, never the code;
 * - a control-channel message other than renewToken: closed with 1008;
 * - a listen with a path suffix, a reject without a 4xx/5xx status and a description: 400;
 * - the rendezvous address's capability: an unguessable `sb-hc-rendezvous` key beside sb-hc-id;
 * - a subprotocol: the listener's first that the sender offered, on both legs;
 * - names compared without letter case; the hosts served are 127.0.0.1 and localhost.
 */
import { promises as fs } from 'fs';
import https from 'https';
import type { AddressInfo } from 'net';
import os from 'os';
import path from 'path';
import type { Duplex } from 'stream';
import { handleRelayUpgrade } from './front-door';
import { Upgrader, type FaultState, type RelayCore, type RelaySettings, type Tallies } from './relay-core';
import { RelayNamespace } from './relay-namespace';
import { RendezvousBook } from './rendezvous';
import { makeRelayCertificate } from './tls-certificate';
import type { TestRelay, TestRelayCounters, TestRelayFaults, TestRelayOptions } from './types';

export type { AuthorizationRule, RelayRight, RuleScope, TestRelay, TestRelayCounters, TestRelayFaults, TestRelayOptions } from './types';

const DEFAULTS: RelaySettings = { rendezvousTimeoutMs: 30_000, idleTimeoutMs: 0, maxListeners: 25 };
const FAULT_STATUSES = [500, 401, 403];

export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const settings = checkedSettings(options);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'test-relay-'));
  const certificate = await makeRelayCertificate(workDir).catch(async (error: unknown) => {
    await fs.rm(workDir, { recursive: true, force: true });
    throw error;
  });

  const sockets = new Set<Duplex>();
  const server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem, minVersion: 'TLSv1.2' });
  server.on('secureConnection', (socket: Duplex) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A plain-text client or an old TLS version ends here: the handshake fails and Node drops the socket.
  server.on('tlsClientError', () => undefined);
  server.on('request', (_request, response) => {
    response.writeHead(400, 'Invalid request', { 'content-type': 'text/plain; charset=utf-8' });
    response.end('This relay answers WebSocket upgrades only: wss://<host>/$hc/<name>?sb-hc-action=listen|connect\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  const namespace = new RelayNamespace();
  const faultState: FaultState = { refusals: { remaining: 0, status: 500 }, slowAcceptMs: 0 };
  const tallies: Tallies = { listenAttempts: 0, listenAttemptTimes: [], pairsMade: 0 };
  const rendezvous = new RendezvousBook(settings.rendezvousTimeoutMs);
  const core: RelayCore = { host, settings, namespace, rendezvous, upgrader: new Upgrader(), faults: faultState, tallies };
  server.on('upgrade', (request, socket: Duplex, head: Buffer) => handleRelayUpgrade(core, request, socket, head));

  const entitiesNamed = (name?: string) =>
    name === undefined ? namespace.all() : [namespace.find(name)].filter((entity) => entity !== undefined);

  const faults: TestRelayFaults = {
    refuseNextListens(count, status) {
      if (!Number.isInteger(count) || count < 0)
        throw new Error(`refuseNextListens: count ${count} is not a whole number of attempts (0 or more)`);
      if (!FAULT_STATUSES.includes(status))
        throw new Error(`refuseNextListens: status ${status} is not one of ${FAULT_STATUSES.join(', ')}`);
      faultState.refusals = { remaining: count, status };
    },
    dropSilently() {
      for (const entity of namespace.all()) {
        for (const live of [...entity.listeners, ...entity.pairs, ...entity.waitingSenders]) live.dropSilently();
      }
    },
    closeListenersWith(code) {
      if (code !== 1011) throw new Error(`closeListenersWith: code ${code} is not 1011 (the service's internal error)`);
      for (const entity of namespace.all())
        for (const listener of [...entity.listeners]) listener.close(1011, 'Something went wrong in the service');
    },
    get slowAcceptMs() {
      return faultState.slowAcceptMs;
    },
    set slowAcceptMs(delayMs: number) {
      if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`slowAcceptMs: ${delayMs} is not a delay in milliseconds (0 or more)`);
      faultState.slowAcceptMs = delayMs;
    },
  };

  const counters: TestRelayCounters = {
    get listenAttempts() {
      return tallies.listenAttempts;
    },
    get listenAttemptTimes() {
      return [...tallies.listenAttemptTimes];
    },
    get pairsMade() {
      return tallies.pairsMade;
    },
    openListeners: (name) => entitiesNamed(name).reduce((sum, entity) => sum + entity.listeners.size, 0),
    openPairs: (name) => entitiesNamed(name).reduce((sum, entity) => sum + entity.pairs.size, 0),
  };

  return {
    host,
    url: `wss://${host}`,
    caPem: certificate.caPem,
    caFile: certificate.caFile,
    createHybridConnection: (name, hybridConnectionOptions) => namespace.create(name, hybridConnectionOptions),
    deleteHybridConnection: (name) => namespace.delete(name),
    setDisabled: (name, disabled) => namespace.setDisabled(name, disabled),
    putRule: (scope, rule) => namespace.putRule(scope, rule),
    faults,
    counters,
    async close() {
      // Destroying the sockets ends each listener's and pair's timers through their 'close' events.
      for (const pending of rendezvous.all()) pending.end();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await fs.rm(workDir, { recursive: true, force: true });
    },
  };
}

function checkedSettings(options: TestRelayOptions): RelaySettings {
  const settings: RelaySettings = {
    rendezvousTimeoutMs: options.rendezvousTimeoutMs ?? DEFAULTS.rendezvousTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
    maxListeners: options.maxListeners ?? DEFAULTS.maxListeners,
  };
  for (const [name, value, least] of [
    ['rendezvousTimeoutMs', settings.rendezvousTimeoutMs, 1],
    ['idleTimeoutMs', settings.idleTimeoutMs, 0],
    ['maxListeners', settings.maxListeners, 1],
  ] as const) {
    if (!Number.isInteger(value) || value < least)
      throw new Error(`startTestRelay: ${name} ${value} is not a whole number of at least ${least}`);
  }
  return settings;
}
