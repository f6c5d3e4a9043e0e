/**
 * The prerequisite checks as the owner meets them: install and grant refuse an ineligible machine
 * with exit 51, a message naming each failed check and one substatus per check; revoking works
 * on any machine.
 */
import type { MachineModel } from '../../sim/windows/machine-model';
import { ExtensionFixture, grantSettings } from '../support/extension-fixture';

const GIB = 1024 ** 3;
const local = (machine: MachineModel) => machine.nodes[machine.localNode]!;

describe('prerequisites in the handler', () => {
  let fixture: ExtensionFixture | undefined;
  afterEach(() => fixture?.remove());

  it('install passes on the default machine', async () => {
    fixture = await ExtensionFixture.create();
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
  });

  it.each([
    [
      'Windows 10 (product type 1)',
      (m: MachineModel) => Object.assign(local(m).os, { caption: 'Microsoft Windows 10 Enterprise', buildNumber: 19045, productType: 1 }),
      'Operating system',
      'product type 1 (workstation)',
    ],
    ['build 14392', (m: MachineModel) => Object.assign(local(m).os, { buildNumber: 14392 }), 'Operating system', 'build 14392'],
    ['3.99 GiB of memory', (m: MachineModel) => (local(m).memory.moduleBytes = [3.99 * GIB]), 'Memory', '3.99 GiB installed'],
    ['a disconnected Arc agent', (m: MachineModel) => (local(m).arc.status = 'Disconnected'), 'Azure Arc agent', 'status Disconnected'],
    [
      'no eligible license',
      (m: MachineModel) => Object.assign(local(m).azure, { softwareAssuranceCustomer: false, productType: null, subscriptionStatus: null }),
      'License',
      'NotEligible (from azure',
    ],
    [
      'a license nobody can read',
      (m: MachineModel) => (local(m).azure.managedIdentityCanReadMachine = false),
      'License',
      'Unknown (no license information: Azure Resource Manager answered 403',
    ],
  ])('install on a machine with %s fails with exit 51 naming the check', async (_name, change, check, observed) => {
    fixture = await ExtensionFixture.create(change);
    const result = await fixture.run('install', { sequenceNumber: 0 });
    expect(result.exitCode).toBe(51);
    expect(result.stderr).toContain(`${check} check failed: found `);
    expect(result.stderr).toContain(observed);
    const status = (await fixture.status(0)).status;
    expect(status).toMatchObject({ operation: 'Install', status: 'error', code: 51 });
    expect(status.formattedMessage.message).toContain(`${check} check failed: found `);
    expect(status.formattedMessage.message).toContain(observed);
    expect(status.formattedMessage.message).toContain('Fix: ');
    expect(status.substatus.map((item) => [item.name, item.status])).toEqual(
      ['Operating system', 'Memory', 'Azure Arc agent', 'License'].map((name) => [
        `Prerequisite: ${name}`,
        name === check ? 'error' : 'success',
      ]),
    );
    expect(await fixture.stateText()).toBeUndefined();
  });

  it('accepts the license the control plane saw when the machine may not read its own resource', async () => {
    fixture = await ExtensionFixture.create((m) => (local(m).azure.managedIdentityCanReadMachine = false));
    const now = new Date();
    await fixture.writeSettings(0, {
      publicSettings: {
        ...grantSettings(now),
        observedLicense: { kind: 'SoftwareAssurance', observedAt: now.toISOString().replace(/\.\d+Z/, 'Z') },
      },
    });
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
    expect((await fixture.run('enable', { sequenceNumber: 0 })).exitCode).toBe(0);
  });

  it('refuses a grant on a machine that became ineligible, keeping what was in force, but always lets the owner revoke', async () => {
    fixture = await ExtensionFixture.create();
    const now = new Date();
    await fixture.run('install', { sequenceNumber: 0 });
    await fixture.writeSettings(0, { publicSettings: grantSettings(now) });
    expect((await fixture.run('enable', { sequenceNumber: 0 })).exitCode).toBe(0);
    const before = await fixture.stateText();

    const machine = await fixture.machine();
    local(machine).arc.status = 'Disconnected';
    const { writeMachine } = await import('../../sim/windows/default-machine');
    await writeMachine(fixture.machinePath, machine);

    await fixture.writeSettings(1, {
      publicSettings: grantSettings(now, { level: 'DiagnosticsAndRepair', grantId: 'b1b2c3d4-0000-4000-8000-000000000002' }),
    });
    const grant = await fixture.run('enable', { sequenceNumber: 1 });
    expect(grant.exitCode).toBe(51);
    expect((await fixture.status(1)).status.formattedMessage.message).toContain('Azure Arc agent check failed: found status Disconnected');
    expect(await fixture.stateText()).toBe(before);

    await fixture.writeSettings(2, { publicSettings: { schemaVersion: 1, access: { level: 'None' } } });
    expect((await fixture.run('enable', { sequenceNumber: 2 })).exitCode).toBe(0);
    expect((await fixture.state()).applied.desired.grant).toBeUndefined();
  });
});

describe('host failures in the handler', () => {
  let fixture: ExtensionFixture | undefined;
  afterEach(() => fixture?.remove());

  it('installs on a cluster whose peer node is down, naming that node, its state and the fix', async () => {
    fixture = await ExtensionFixture.create((machine) => (machine.nodes['ARC-NODE-2']!.power = 'Off'));
    expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
    const substatus = (await fixture.status(0)).status.substatus;
    expect(substatus.map((item) => item.name)).toEqual(['Node ARC-NODE-1', 'Node ARC-NODE-2']);
    expect(substatus[1]!.formattedMessage.message).toBe(
      'cluster node Down; not managed from ARC-NODE-1: each node is its own Arc machine, so deploy the extension on ARC-NODE-2 too (or set cluster.installOnPeers to cover it from ARC-NODE-1).',
    );
  });

  it('reports a Windows host that cannot be read as a failure naming the phase and operation', async () => {
    fixture = await ExtensionFixture.create();
    const { promises: fs } = await import('fs');
    await fs.writeFile(fixture.machinePath, '{ not a machine');
    const result = await fixture.run('install', { sequenceNumber: 0 });
    expect(result.exitCode).toBe(1);
    const message = (await fixture.status(0)).status.formattedMessage.message;
    expect(message).toMatch(/^Windows host phase '[^']+' failed: the simulated machine .* could not be used/);
    expect(message).not.toContain('Unexpected failure');
  });
});
