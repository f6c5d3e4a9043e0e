/**
 * The bundled node agent (bin/agent.js), run as the scheduled tasks run it: a process with a
 * command line, on the simulated machine and on the Node the package ships.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { DESIRED_STATE_FILE, GROUPS } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { bundleHandler } from '../../scripts/build/bundle';
import { makeTempDir } from '../support/cms';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNode } from '../../scripts/build/shipped-node';

describe('the node agent executable', () => {
  let bin: string;
  let fixture: ExtensionFixture;
  let host: SimulatedHost;
  let simulator: string;
  let node: string;

  beforeAll(async () => {
    simulator = await simulatorBundle();
    node = await shippedNode();
    bin = await makeTempDir('ars-agent-bin');
    await bundleHandler({ identity: { publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' }, outFile: path.join(bin, 'handler.js') });
    fixture = await ExtensionFixture.create();
    host = new SimulatedHost(fixture.machinePath);
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
    await host.execute([op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] })], { phase: 'owner' });
    await fixture.writeSettings(1, { publicSettings: grantSettings(new Date((await fixture.machine()).clock.nowUtc)) });
    expect((await fixture.run('enable', { sequenceNumber: 1 })).exitCode).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await fixture.remove();
    await fs.rm(bin, { recursive: true, force: true });
  });

  const agent = (...argv: string[]) =>
    execa(node, [path.join(bin, 'agent.js'), ...argv], { reject: false, env: simulatorEnvironment(fixture.machinePath, { simulator }) });

  it('reports the access in force', async () => {
    const status = await agent('status');
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^Access: Diagnostics for support request TKT-2611240001 until \S+Z\.$/);
  });

  it('refuses a command it does not know, and expire without a grant id, with its usage', async () => {
    expect(await agent('bogus')).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('usage: agent <reconcile') });
    expect(await agent('expire')).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('expire needs --grant <id>') });
  });

  it('reconciles: nothing to change, then fails closed on a corrupt record', async () => {
    expect(await agent('reconcile')).toMatchObject({ exitCode: 0, stdout: 'reconcile: nothing to change' });
    await host.execute([op('writeFile', { path: DESIRED_STATE_FILE, content: 'not json' })], { phase: 'corrupt' });
    const reconcile = await agent('reconcile');
    expect(reconcile.exitCode).toBe(0);
    expect(reconcile.stdout).toContain('remove diagnostics access');
    expect(reconcile.stdout).toContain('the desired-state record is unreadable');
    const [group] = await host.execute([op('getLocalGroup', { name: GROUPS.diagnostics })], { phase: 'check' });
    expect(group).toEqual({ ok: true, value: { exists: true, members: [] } });
  });
});
