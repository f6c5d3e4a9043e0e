/**
 * Azurite (the storage emulator) as a child process on a free port, in a temp folder, and a
 * container with SAS URLs minted by the real SDK. `--skipApiVersionCheck`: the SDK sends a newer
 * service version than Azurite's baseline (test/diag/upload.test.ts proves the pairing needs it).
 */
import {
  BlobServiceClient,
  ContainerSASPermissions,
  SASProtocol,
  StorageSharedKeyCredential,
  generateBlobSASQueryParameters,
} from '@azure/storage-blob';
import { spawn, type ChildProcess } from 'child_process';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';

/** The emulator's well-known development account (published in its documentation). */
export const DEV_ACCOUNT = 'devstoreaccount1';
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const AZURITE_MAIN = path.resolve(__dirname, '../../node_modules/azurite/dist/src/blob/main.js');

export interface Azurite {
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  port: number;
  service: BlobServiceClient;
  /** Creates a container and returns its SAS URL (default cw, 1 hour), optionally on another origin (a proxy). */
  containerSas(container: string, options?: { permissions?: string; expiresOn?: Date; origin?: string }): Promise<string>;
  stop(): Promise<void>;
}

export async function startAzurite(options: { skipApiVersionCheck?: boolean } = {}): Promise<Azurite> {
  const location = await fs.mkdtemp(path.join(tmpdir(), 'ars-azurite-'));
  const args = [AZURITE_MAIN, '--location', location, '--blobHost', '127.0.0.1', '--blobPort', '0', '--disableTelemetry', '--silent'];
  if (options.skipApiVersionCheck !== false) args.push('--skipApiVersionCheck');
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Azurite did not start in 30 s: ${output}`)), 30_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      const match = /successfully listens on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace(/\/$/, ''));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}: ${output}`));
    });
  });
  const credential = new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY);
  // No retries, so a test sees every answer; no kept-alive sockets, which Azurite closes when idle
  // (a reused one then fails as 'socket hang up' in a test that waited between two calls).
  const service = new BlobServiceClient(`${origin}/${DEV_ACCOUNT}`, credential, {
    retryOptions: { maxTries: 1 },
    keepAliveOptions: { enable: false },
  });
  return {
    origin,
    port: Number(new URL(origin).port),
    service,
    async containerSas(container, sasOptions = {}) {
      await service.getContainerClient(container).createIfNotExists();
      const query = generateBlobSASQueryParameters(
        {
          containerName: container,
          permissions: ContainerSASPermissions.parse(sasOptions.permissions ?? 'cw'),
          expiresOn: sasOptions.expiresOn ?? new Date(Date.now() + 3600_000),
          protocol: SASProtocol.HttpsAndHttp,
        },
        credential,
      );
      return `${sasOptions.origin ?? origin}/${DEV_ACCOUNT}/${container}?${query.toString()}`;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      await fs.rm(location, { recursive: true, force: true });
    },
  };
}
