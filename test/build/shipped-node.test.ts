/**
 * The tests run the bundled handler and agent on the Node the package ships: the Linux build of
 * the pinned release, from a tarball checked against the pin, and never a binary that reports
 * another version.
 */
import execa from 'execa';
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import path from 'path';
import { loadExtensionIdentity } from '../../manifests/extension-identity';
import { bundleHandler } from '../../scripts/build/bundle';
import { fileIntegrity, tarballPath } from '../../scripts/build/node-runtime';
import { prepareShippedNode, shippedNode, shippedNodePath } from '../../scripts/build/shipped-node';
import { layOutExtensionFolder } from '../../sim/arm/extension-folder';
import { createDefaultMachine, writeMachine } from '../../sim/windows/default-machine';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { makeTempDir } from '../support/cms';

const identity = loadExtensionIdentity();
const shipped = `v${identity.nodeRuntime.version}`;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('the shipped Node on this machine', () => {
  let work: string;
  beforeAll(async () => {
    work = await makeTempDir('ars-shipped-node');
  });
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  it("is the Linux build of node.exe's release, extracted from the pinned tarball", async () => {
    const node = await shippedNode();
    expect((await execa(node, ['-p', 'process.version'])).stdout).toBe(shipped);

    const tarball = tarballPath(identity.linuxNodeRuntime);
    expect(await fileIntegrity(tarball)).toBe(identity.linuxNodeRuntime.integrity);
    const out = path.join(work, 'from-tarball');
    await fs.mkdir(out);
    await execa('tar', ['-xzf', tarball, '-C', out, 'package/bin/node']);
    expect(sha256(await fs.readFile(node))).toBe(sha256(await fs.readFile(path.join(out, 'package', 'bin', 'node'))));
  }, 60_000);

  it('runs the bundled handler, which names that version in its log', async () => {
    const bin = path.join(work, 'package', 'bin');
    await bundleHandler({ identity, outFile: path.join(bin, 'handler.js') });
    const root = path.join(work, 'extension');
    await layOutExtensionFolder(root, `${identity.publisher}.${identity.type}`);
    const machinePath = path.join(work, 'machine.json');
    await writeMachine(machinePath, createDefaultMachine());

    const run = await execa(await shippedNode(), [path.join(bin, 'handler.js'), 'install'], {
      cwd: root,
      reject: false,
      env: {
        ...simulatorEnvironment(machinePath, { simulator: await simulatorBundle() }),
        ARC_REMOTE_SUPPORT_DATA: path.join(work, 'data'),
        ConfigSequenceNumber: '0',
      },
    });
    expect(run.exitCode).toBe(0);
    const log = await fs.readFile(path.join(root, 'log', 'handler.log'), 'utf8');
    expect(log).toContain(`${identity.publisher}.${identity.type} ${identity.version} install started on Node ${shipped}`);
  }, 120_000);

  it('refuses a binary in the cache that reports another version, and says how to recover', async () => {
    const cacheDir = path.join(work, 'cache');
    const binary = shippedNodePath(identity.linuxNodeRuntime, cacheDir);
    await fs.mkdir(path.dirname(binary), { recursive: true });
    await fs.writeFile(binary, '#!/bin/sh\necho v20.0.0\n', { mode: 0o755 });

    await expect(prepareShippedNode({ cacheDir })).rejects.toThrow(
      `${binary} reports Node v20.0.0, but manifests/extension.yaml pins ${identity.linuxNodeRuntime.package}@${identity.nodeRuntime.version}. ` +
        `Delete ${path.dirname(binary)} to extract it again from the checked tarball.`,
    );
  });
});
