/**
 * Builds the extension package: dist/<Publisher>.<Type>-<version>.zip, reproducibly.
 *
 *   npm run package [-- --version 1.0.1] [-- --out <dir>]
 *
 * Like `npm run build`, it stops first when a generated file is stale (`npm run generate`).
 *
 * The unzipped tree is kept beside the zip (stagingDir) for tests that install a package folder.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { bundleHandler, HANDLER_MAIN_FILE } from './bundle';
import { assertGeneratedFilesCurrent } from './generate';
import { ExtensionIdentity, REPO_ROOT, isVersion, loadExtensionIdentity, packageName } from '../../manifests/extension-identity';
import { obtainNodeExe } from './node-runtime';
import { sha256File, zipFolder } from './zip';

/**
 * Repository folders copied whole into the package: `from` (in the repo) -> `to` (in the package).
 * Add a row to ship another folder.
 */
export interface PackageFolder {
  from: string;
  to: string;
  required: boolean;
}
export const PACKAGE_FOLDERS: readonly PackageFolder[] = [
  // The PowerShell that runs on the node.
  { from: 'windows/powershell', to: 'scripts', required: true },
  // Protected-settings decryption on Windows (the protocol's own script).
  { from: 'extension/powershell', to: 'scripts', required: true },
  // The JEA module (role capabilities and manifest): the handler installs it on every node.
  { from: 'jea/generated', to: 'jea', required: true },
];

const HANDLER_MANIFEST = path.join(REPO_ROOT, 'manifests', 'HandlerManifest.json');
const HANDLER_CMD = path.join(REPO_ROOT, 'scripts', 'package', 'handler.cmd');
export const HANDLER_COMMANDS = ['install', 'enable', 'update', 'disable', 'uninstall'] as const;

export interface BuildPackageOptions {
  /** Overrides the version from extension.yaml (tests build a higher version to upgrade to). */
  version?: string;
  /** Default <repo>/dist. */
  outDir?: string;
  /** Handler entry point; default handlers/main.ts. */
  entry?: string;
  /** Where the node runtime tarball is cached; default <repo>/.cache. */
  cacheDir?: string;
  /** Default PACKAGE_FOLDERS. */
  folders?: readonly PackageFolder[];
  log?: (message: string) => void;
}

export interface BuiltPackage {
  zipPath: string;
  sha256: string;
  size: number;
  stagingDir: string;
  version: string;
  bundleSize: number;
}

/** Fails the build on a manifest the extension manager would reject or run wrongly. */
export function checkHandlerManifest(text: string): void {
  const doc = JSON.parse(text) as unknown;
  const manifest = Array.isArray(doc) && doc.length === 1 ? (doc[0] as { handlerManifest?: Record<string, unknown> }) : undefined;
  const hm = manifest?.handlerManifest;
  if (!hm) throw new Error('HandlerManifest.json must be a one-element array with a handlerManifest');
  for (const command of HANDLER_COMMANDS) {
    const expected = `bin\\handler.cmd ${command}`;
    if (hm[`${command}Command`] !== expected) {
      throw new Error(`HandlerManifest.json: ${command}Command must be ${JSON.stringify(expected)}`);
    }
  }
}

/** The shim runs under cmd.exe, which wants CRLF whatever git did to the checkout. */
function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

async function copyFolder(from: string, to: string): Promise<void> {
  await fs.cp(from, to, { recursive: true, errorOnExist: true, force: false });
}

async function isDirectory(dir: string): Promise<boolean> {
  return fs.stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Lays out the package tree in stagingDir; returns the bundle's size. */
async function stage(identity: ExtensionIdentity, stagingDir: string, options: BuildPackageOptions): Promise<number> {
  const bin = path.join(stagingDir, 'bin');
  await fs.mkdir(bin, { recursive: true });
  const manifest = await fs.readFile(HANDLER_MANIFEST, 'utf8');
  checkHandlerManifest(manifest);
  await fs.writeFile(path.join(stagingDir, 'HandlerManifest.json'), manifest);
  await fs.writeFile(path.join(bin, 'handler.cmd'), toCrlf(await fs.readFile(HANDLER_CMD, 'utf8')));

  const { size: bundleSize } = await bundleHandler({
    identity,
    outFile: path.join(bin, 'handler.js'),
    entry: options.entry,
  });
  await obtainNodeExe({
    runtime: identity.nodeRuntime,
    destFile: path.join(bin, 'node.exe'),
    cacheDir: options.cacheDir,
    log: options.log,
  });

  for (const folder of options.folders ?? PACKAGE_FOLDERS) {
    const from = path.join(REPO_ROOT, folder.from);
    if (await isDirectory(from)) await copyFolder(from, path.join(stagingDir, folder.to));
    else if (folder.required) throw new Error(`${folder.from}/ is missing: the package needs it`);
  }

  return bundleSize;
}

export async function buildPackage(options: BuildPackageOptions = {}): Promise<BuiltPackage> {
  const base = loadExtensionIdentity();
  if (options.version !== undefined && !isVersion(options.version)) {
    throw new Error(`--version must be major.minor.patch, got ${JSON.stringify(options.version)}`);
  }
  const identity: ExtensionIdentity = { ...base, version: options.version ?? base.version };
  const name = packageName(identity);
  const outDir = path.resolve(options.outDir ?? path.join(REPO_ROOT, 'dist'));
  const stagingDir = path.join(outDir, name);
  const zipPath = path.join(outDir, `${name}.zip`);

  // Nothing from an earlier build of this name survives a failed one.
  await Promise.all([fs.rm(stagingDir, { recursive: true, force: true }), fs.rm(zipPath, { force: true })]);
  let bundleSize: number;
  try {
    bundleSize = await stage(identity, stagingDir, options);
  } catch (err) {
    // A half-built folder must not pass for a package (tests install package folders).
    await fs.rm(stagingDir, { recursive: true, force: true });
    throw err;
  }

  await zipFolder(stagingDir, zipPath);
  const [sha256, { size }] = await Promise.all([sha256File(zipPath), fs.stat(zipPath)]);
  return { zipPath, sha256, size, stagingDir, version: identity.version, bundleSize };
}

function parseArgs(argv: string[]): BuildPackageOptions {
  const options: BuildPackageOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--version' || arg === '--out') && value !== undefined) {
      if (arg === '--version') options.version = value;
      else options.outDir = value;
      i++;
    } else {
      throw new Error(`usage: npm run package [-- --version <major.minor.patch>] [-- --out <dir>] (got ${arg})`);
    }
  }
  return options;
}

if (require.main === module) {
  (async () => {
    const started = Date.now();
    // The zip ships jea/generated as it is: never a stale copy of the roles.
    await assertGeneratedFilesCurrent();
    const built = await buildPackage({ ...parseArgs(process.argv.slice(2)), log: (m) => console.error(m) });
    console.log(built.zipPath);
    console.log(`size    ${built.size} bytes (handler.js and ${HANDLER_MAIN_FILE} ${built.bundleSize} bytes)`);
    console.log(`sha256  ${built.sha256}`);
    console.error(`built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  })().catch((err: unknown) => {
    console.error(`package failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
