/**
 * `agent status` and the channel: what the owner reads of the connection of the grant in force,
 * from the status file the channel agent writes, on the simulated machine. A file that is not
 * about the grant in force is named stale, never taken as the connection; a file that cannot be
 * read does not stop status.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { runAgentCommand } from '../../agent/commands';
import { serializeChannelStatus, type ChannelStatus } from '../../core/channel-status';
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import { CHANNEL_STATUS_FILE, DATA_FOLDER, DESIRED_STATE_FILE, GROUPS } from '../../core/node-layout';
import type { NodeChannel } from '../../core/node-channel';
import { createDefaultMachine, updateMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { op } from '../../windows/operations';
import { makeTempDir } from '../support/cms';

const NOW = new Date('2026-11-24T20:00:00Z');
const GRANT_ID = '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const OTHER_GRANT = '9a8b7c6d-5d4a-4e7b-9c2d-1a2b3c4d5e6f';
const CHANNEL: NodeChannel = {
  grantId: GRANT_ID,
  machine: 'ARC-NODE-1',
  relayNamespace: 'contoso-support.servicebus.windows.net',
  hybridConnection: 'arc-node-1',
  ticketPublicKey: '{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}',
  listenTokenDigest: 'a'.repeat(64),
  listenTokenExpiresAt: new Date('2026-11-25T04:00:00Z'),
};
const GRANTED: DesiredRecord = {
  enabled: true,
  retentionDays: 30,
  grant: {
    level: 'Diagnostics',
    grantId: GRANT_ID,
    expiresAt: new Date('2026-11-25T04:00:00Z'),
    supportRequestId: 'TKT-2611240001',
    consent: { termsVersion: '2026.1', acceptedAt: new Date('2026-11-24T19:00:00Z'), acceptedBy: 'owner@contoso.example' },
  },
  channel: CHANNEL,
};
const CONNECTED: ChannelStatus = {
  connection: 'connected',
  detail: 'connected since 2026-11-24T19:55:00.000Z',
  httpStatus: null,
  lastError: null,
  grantId: GRANT_ID,
  hybridConnection: 'arc-node-1',
  openSessions: 1,
  updatedAt: '2026-11-24T19:58:00.000Z',
  processId: 4321,
};

describe('agent status and the channel', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => fs.rm(dir, { recursive: true, force: true }))));

  async function node(record: DesiredRecord, status: ChannelStatus | string | null, members = record.grant ? ['CONTOSO\\engineer1'] : []) {
    const dir = await makeTempDir('ars-status-channel');
    dirs.push(dir);
    const modelPath = path.join(dir, 'model.json');
    await writeMachine(modelPath, createDefaultMachine({ nowUtc: NOW.toISOString(), nodes: 1 }));
    const host = new SimulatedHost(modelPath);
    const outcomes = await host.execute(
      [
        op('ensureDirectory', { path: DATA_FOLDER }),
        op('writeFile', { path: DESIRED_STATE_FILE, content: serializeDesiredRecord(record) }),
        op('ensureLocalGroup', { name: GROUPS.diagnostics, description: 'Arc remote support' }),
        op('setLocalGroupMembers', { name: GROUPS.diagnostics, members }),
        ...(status === null
          ? []
          : [
              op('writeFile', { path: CHANNEL_STATUS_FILE, content: typeof status === 'string' ? status : serializeChannelStatus(status) }),
            ]),
      ],
      { phase: 'test' },
    );
    expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
    return {
      modelPath,
      status: async (...argv: string[]) => runAgentCommand(['status', ...argv], host, NOW),
      json: async (...argv: string[]) => {
        const result = await runAgentCommand(['status', '--json', ...argv], host, NOW);
        expect(result.exitCode).toBe(0);
        return JSON.parse(result.output);
      },
    };
  }

  it('says the grant in force is connected, with its open sessions, in the line and in the JSON', async () => {
    const n = await node(GRANTED, CONNECTED);
    expect(await n.status()).toEqual({
      exitCode: 0,
      output:
        'Access: Diagnostics for support request TKT-2611240001 until 2026-11-25T04:00:00Z. Channel: connected since 2026-11-24T19:55:00.000Z (1 session open).',
    });
    const report = await n.json();
    expect(report.channel).toEqual({
      relayNamespace: 'contoso-support.servicebus.windows.net',
      hybridConnection: 'arc-node-1',
      connection: 'connected',
      connectionStatus: 'Connected',
      detail: 'connected since 2026-11-24T19:55:00.000Z',
      httpStatus: null,
      lastError: null,
      openSessions: 1,
      updatedAt: '2026-11-24T19:58:00.000Z',
    });
    expect(report.grants).toEqual([
      expect.objectContaining({
        grantId: GRANT_ID,
        state: 'Active',
        connectionStatus: 'Connected',
        connectionDetail: 'connected since 2026-11-24T19:55:00.000Z',
      }),
    ]);
    expect(report.warnings).toEqual([]);
  });

  it("names a refusal by the relay's code and keeps the last error", async () => {
    const n = await node(GRANTED, {
      ...CONNECTED,
      connection: 'refused',
      detail: 'refused (401 unauthorized): the relay refused the listen token; waiting for a new token',
      httpStatus: 401,
      lastError: 'the relay refused the listen token',
      openSessions: 0,
    });
    expect((await n.status()).output).toMatch(
      / Channel: refused \(401 unauthorized\): the relay refused the listen token; waiting for a new token\.$/,
    );
    const report = await n.json();
    expect(report.channel).toMatchObject({
      connection: 'refused',
      connectionStatus: 'Refused:401',
      httpStatus: 401,
      lastError: 'the relay refused the listen token',
      openSessions: 0,
    });
    expect(report.grants[0]).toMatchObject({ connectionStatus: 'Refused:401', connectionDetail: expect.stringMatching(/^refused \(401/) });
  });

  it("reports a status file of another grant as stale, never as this grant's connection", async () => {
    const n = await node(GRANTED, { ...CONNECTED, grantId: OTHER_GRANT });
    const line = (await n.status()).output;
    expect(line).toContain(`Channel: not reported for this grant yet: ${CHANNEL_STATUS_FILE} is stale, from grant ${OTHER_GRANT}`);
    expect(line).not.toMatch(/connected since/);
    const report = await n.json();
    expect(report.channel).toMatchObject({
      connection: 'disconnected',
      connectionStatus: 'Disconnected',
      openSessions: 0,
      updatedAt: null,
    });
    expect(report.channel.detail).toMatch(/is stale, from grant 9a8b7c6d-/);
    expect(report.grants[0]).toMatchObject({ connectionStatus: 'Disconnected', connectionDetail: expect.stringContaining('is stale') });
  });

  it('warns that a file saying connected while no grant is in force is stale, and shows no channel', async () => {
    const n = await node({ ...GRANTED, grant: null, channel: undefined }, CONNECTED);
    expect(await n.status()).toEqual({ exitCode: 0, output: 'Access: none.' });
    const report = await n.json();
    expect(report.channel).toBeNull();
    expect(report.warnings).toEqual([
      `${CHANNEL_STATUS_FILE} says the channel is connected for grant ${GRANT_ID} (written 2026-11-24T19:58:00.000Z), but no grant with a channel is in force: that state is stale, not the node's. The agent stops listening within seconds of a grant's end, and the Reconcile task removes the Channel task and ends leftover session processes.`,
    ]);
    // After the grant's expiry too: the record still names it, but it is not in force.
    const expired = await node(GRANTED, CONNECTED);
    const later = JSON.parse(
      (await runAgentCommand(['status', '--json'], new SimulatedHost(expired.modelPath), new Date('2026-11-25T05:00:00Z'))).output,
    );
    expect(later.channel).toBeNull();
    expect(later.warnings.join('\n')).toMatch(/that state is stale/);
  });

  it('says nothing of a channel when the grant has none, nor of a status file that says stopped', async () => {
    const without = await node(
      { ...GRANTED, channel: undefined },
      { ...CONNECTED, connection: 'stopped', detail: 'stopped: no grant in force', grantId: null },
    );
    expect((await without.status()).output).toBe('Access: Diagnostics for support request TKT-2611240001 until 2026-11-25T04:00:00Z.');
    const report = await without.json();
    expect(report.channel).toBeNull();
    expect(report.grants[0]).toMatchObject({ state: 'Active', connectionStatus: null, connectionDetail: null });
    expect(report.warnings).toEqual([]);
  });

  it('says the channel has not reported when there is no status file, or an unreadable one', async () => {
    for (const status of [null, '{"connection": "connec']) {
      const n = await node(GRANTED, status);
      expect((await n.status()).output).toMatch(
        / Channel: not reported yet: the channel agent has written no readable status on this node\.$/,
      );
      expect((await n.json()).channel).toMatchObject({ connection: 'disconnected', connectionStatus: 'Disconnected', updatedAt: null });
    }
  });

  it('still answers when the status file cannot be read, and says the connection is not known', async () => {
    const n = await node(GRANTED, CONNECTED);
    await updateMachine(n.modelPath, (machine) => {
      machine.faults.push({
        operation: 'readFile',
        target: CHANNEL_STATUS_FILE,
        action: 'fail',
        message: 'The file is locked',
        remaining: 2,
      });
    });
    const line = await n.status();
    expect(line.exitCode).toBe(0);
    expect(line.output).toMatch(
      /^Access: Diagnostics .* Channel: not known: .*channel-status\.json could not be read \(\w+: The file is locked\)\.$/,
    );
    const report = await n.json();
    expect(report.access).toMatchObject({ grantId: GRANT_ID });
    expect(report.channel).toMatchObject({
      connectionStatus: 'Disconnected',
      detail: expect.stringMatching(/^not known: .*The file is locked/),
    });
  });
});
