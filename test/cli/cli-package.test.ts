/**
 * The published CLI as an operator gets it: `npm run package:cli` makes the tarball, `npm install -g`
 * installs it offline with an empty npm cache (it has no dependencies), and the installed program
 * runs from a folder that is not this repository, against the ARM emulator through the Arc managed
 * identity, as in an operator's shell.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import { buildCliPackage, type BuiltCliPackage } from '../../scripts/build/cli-package';
import { REPO_ROOT } from '../../manifests/extension-identity';
import { startArmEmulator, type ArmEmulator } from '../../sim/arm';
import { ARM_AUDIENCE, EXTENSION_IDENTITY, SUBSCRIPTION } from '../support/cli-harness';

const RG = 'servers';
const COMMANDS = ['deploy', 'grant', 'configure', 'revoke', 'status', 'upgrade', 'remove'];

let work: string;
let built: BuiltCliPackage;
let installed: string;
let emulator: ArmEmulator;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'ars-cli-package-'));
  [built, emulator] = await Promise.all([
    buildCliPackage({ outDir: path.join(work, 'dist') }),
    startArmEmulator({
      operationMs: 20,
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'fs01' }],
      supportTickets: [{ subscriptionId: SUBSCRIPTION, name: 'TKT-PKG-1', status: 'Open', title: 'The package test' }],
    }),
  ]);
  const prefix = path.join(work, 'prefix');
  // --offline with a cache of its own: the install cannot fetch anything, so it must need nothing.
  await execa(
    'npm',
    [
      'install',
      '-g',
      built.tarball,
      '--prefix',
      prefix,
      '--offline',
      '--cache',
      path.join(work, 'npm-cache'),
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
    ],
    { cwd: work },
  );
  installed = path.join(prefix, 'bin', 'arc-remote-support');
}, 60_000);

afterAll(async () => {
  await emulator?.close();
  if (work) await fs.rm(work, { recursive: true, force: true });
});

/** The installed program from a shell with only node on the PATH, in a folder outside the repository. */
function run(argv: string[], env: Record<string, string> = {}) {
  return execa(installed, argv, {
    cwd: work,
    env: { PATH: path.dirname(process.execPath), HOME: work, ...env },
    extendEnv: false,
    reject: false,
    timeout: 30_000,
  });
}

it('packs the bundle, a package.json without dependencies, a README and the bundled licenses', async () => {
  expect(path.basename(built.tarball)).toBe(`arc-remote-support-${EXTENSION_IDENTITY.version}.tgz`);
  const { stdout } = await execa('tar', ['-tzf', built.tarball]);
  expect(stdout.split('\n').sort()).toEqual([
    'package/README.md',
    'package/THIRD-PARTY-NOTICES.md',
    'package/bin/arc-remote-support.js',
    'package/package.json',
  ]);
  const manifest = JSON.parse(await fs.readFile(path.join(built.stagingDir, 'package.json'), 'utf8'));
  expect(manifest).toEqual({
    name: 'arc-remote-support',
    version: EXTENSION_IDENTITY.version,
    description: expect.stringContaining('Arc Remote Support'),
    license: 'MIT',
    bin: { 'arc-remote-support': 'bin/arc-remote-support.js' },
    engines: { node: '>=20' },
  });
  const bundle = await fs.readFile(path.join(built.stagingDir, 'bin', 'arc-remote-support.js'), 'utf8');
  // Nothing of the build machine in what ships, and nothing compiled or read from yaml at run time.
  expect(bundle).not.toContain(REPO_ROOT);
  expect(bundle).not.toMatch(/require\("(tsx[^"]*|yaml)"\)|extension\.yaml/);
  // esbuild names each bundled source in a comment: no build script, simulator or yaml reader among them.
  expect(bundle).toMatch(/^\/\/ cli\/main\.ts$/m);
  expect(bundle).not.toMatch(/^\/\/ (scripts|sim)\/|^\/\/ manifests\/extension-identity\.ts$/m);
  const notices = await fs.readFile(path.join(built.stagingDir, 'THIRD-PARTY-NOTICES.md'), 'utf8');
  expect(notices).toMatch(/^## commander \d+\.\d+\.\d+ \(MIT\)\n\n```\n[^`]*Permission is hereby granted/m);
  expect(notices).toMatch(/^## @azure\/identity \d+\.\d+\.\d+ \(MIT\)$/m);
});

it('installed from the tarball, --help lists every command and the exit codes', async () => {
  const help = await run(['--help']);
  expect(help.exitCode).toBe(0);
  for (const command of COMMANDS) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  expect(help.stdout).toMatch(/Exit codes:\n\s+0\s+every target succeeded/);
  const version = await run(['--cli-version']);
  expect(version.stdout).toBe(EXTENSION_IDENTITY.version);
});

it('installed from the tarball, deploys, grants and shows the status of an emulated machine', async () => {
  const env = { ...emulator.credentialEnvironment(), AZURE_SUBSCRIPTION_ID: SUBSCRIPTION };
  const where = ['--machine', 'fs01', '--resource-group', RG, '--endpoint', emulator.endpoint, '--audience', ARM_AUDIENCE];

  const deploy = await run(['deploy', ...where], env);
  expect(deploy.stderr).toMatch(/1 ok, 0 failed, 0 skipped\./);
  expect(deploy.exitCode).toBe(0);
  // The identity the build baked in is the one Azure was asked to install.
  const extension = emulator.extension(SUBSCRIPTION, RG, 'fs01', EXTENSION_IDENTITY.type);
  const [major, minor] = EXTENSION_IDENTITY.version.split('.');
  expect(extension?.properties).toMatchObject({
    publisher: EXTENSION_IDENTITY.publisher,
    type: EXTENSION_IDENTITY.type,
    typeHandlerVersion: `${major}.${minor}`,
  });

  const grant = await run(
    ['grant', ...where, '--level', 'Diagnostics', '--duration', '8h', '--support-request', 'TKT-PKG-1', '--accept-terms'],
    env,
  );
  expect(grant.exitCode).toBe(0);
  expect(grant.stderr).toMatch(/Grant \S+: Diagnostics until \S+ for TKT-PKG-1, accepted by owner@contoso\.example \(upn\)/);

  const status = await run(['status', ...where], env);
  expect(status.exitCode).toBe(0);
  expect(status.stdout).toMatch(/│ machine\s*│ node\s*│ provisioning\s*│ level\s*│ ticket\s*│ expires at\s*│ time left\s*│ message\s*│/);
  expect(status.stdout).toMatch(
    /│ servers\/fs01 │\s+│ Succeeded\s*│ Diagnostics │ TKT-PKG-1 │ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ │ (7 h 59 min|8 h 0 min)\s*│ Extension update succeeded\. │/,
  );
});
