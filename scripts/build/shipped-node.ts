/**
 * The Node the package ships, built for this machine. The tests, the simulated runs and the
 * benchmark run the bundled handler and agent on it rather than on the Node that runs them
 * (process.execPath), so what they show holds for the node.exe in the package.
 *
 * It is the Linux build of the pinned release (linuxNodeRuntime in manifests/extension.yaml),
 * fetched with `npm pack` and trusted only once the tarball matches both the pinned and the
 * published integrity, like node.exe. Its binary is put in <repo>/.cache/<package>-<version>/node
 * only from a tarball that passed both checks, and each process checks that it reports the pinned
 * version before running anything on it.
 */
import { promises as fs } from 'fs';
import path from 'path';
import execa from 'execa';
import { loadExtensionIdentity, type NodeRuntimePin } from '../../manifests/extension-identity';
import { assertElfExecutable, DEFAULT_CACHE_DIR, extractNodeBinary, verifiedTarball } from './node-runtime';

export interface PrepareShippedNodeOptions {
  /** Default: linuxNodeRuntime from manifests/extension.yaml. */
  runtime?: NodeRuntimePin;
  /** Default: <repo>/.cache. */
  cacheDir?: string;
  log?: (message: string) => void;
}

export function shippedNodePath(runtime: NodeRuntimePin, cacheDir = DEFAULT_CACHE_DIR): string {
  return path.join(cacheDir, `${runtime.package}-${runtime.version}`, 'node');
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

/** Fetches, checks and extracts the binary when it is not there yet; returns its path. */
export async function prepareShippedNode(options: PrepareShippedNodeOptions = {}): Promise<string> {
  const runtime = options.runtime ?? loadExtensionIdentity().linuxNodeRuntime;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The shipped Node is pinned for Linux x64 (${runtime.package} in manifests/extension.yaml); this machine is ${process.platform}-${process.arch}.`,
    );
  }
  const binary = shippedNodePath(runtime, options.cacheDir);
  if (!(await exists(binary))) {
    const { tarball } = await verifiedTarball(runtime, options.cacheDir, options.log);
    await extractNodeBinary(tarball, binary, async (file) => {
      await assertElfExecutable(file);
      await fs.chmod(file, 0o755);
    });
  }
  const { stdout } = await execa(binary, ['-p', 'process.version'], { extendEnv: false, env: {} });
  if (stdout.trim() !== `v${runtime.version}`) {
    throw new Error(
      `${binary} reports Node ${stdout.trim()}, but manifests/extension.yaml pins ${runtime.package}@${runtime.version}. ` +
        `Delete ${path.dirname(binary)} to extract it again from the checked tarball.`,
    );
  }
  return binary;
}

let prepared: Promise<string> | undefined;

/** The shipped Node's path, prepared once per process (a failed attempt is tried again). */
export function shippedNode(): Promise<string> {
  prepared ??= prepareShippedNode().catch((err: unknown) => {
    prepared = undefined;
    throw err;
  });
  return prepared;
}

if (require.main === module) {
  prepareShippedNode({ log: (message) => console.error(message) }).then(
    (binary) => console.log(binary),
    (err: unknown) => {
      console.error(`shipped node: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
