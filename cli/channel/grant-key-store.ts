/**
 * Each grant's ticket key pair and channel records, in the owner's folder:
 *   grants/<grantId>/ticket-key.pem        the Ed25519 private key (PKCS#8 PEM, 0600); never sent anywhere
 *   grants/<grantId>/machine-<hash>.json   one machine's channel: namespace, hybrid connections per node (0600)
 * A new grant makes a new key pair (that is the rotation: the node only trusts the key its grant
 * brought). Revoking a machine removes its record; the key goes with the grant's last record.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'crypto';
import { promises as fs } from 'fs';
import path from 'path';
import type { GrantLevel } from '../../core/desired-state';
import { privateFolder, writePrivateFile } from './owner-home';

export interface ChannelRecord {
  grantId: string;
  level: GrantLevel;
  expiresAt: string;
  supportRequestId: string;
  /** The Arc machine's ARM id and name. */
  machineId: string;
  machine: string;
  relayNamespaceId: string;
  /** The namespace's host, e.g. contoso.servicebus.windows.net. */
  relayHost: string;
  /** Hybrid connection per node name (upper case). */
  nodes: Record<string, string>;
}

export interface GrantKeyPair {
  privateKey: KeyObject;
  /** SPKI PEM: what the node receives in protected settings. */
  publicKeyPem: string;
}

const KEY_FILE = 'ticket-key.pem';

export class GrantKeyStore {
  constructor(readonly home: string) {}

  folder(grantId: string): string {
    return path.join(this.home, 'grants', grantId.toLowerCase());
  }

  keyFile(grantId: string): string {
    return path.join(this.folder(grantId), KEY_FILE);
  }

  /** The grant's key pair: made and stored the first time, read back after (a resumed grant keeps its key). */
  async keyPair(grantId: string): Promise<GrantKeyPair> {
    await privateFolder(this.folder(grantId));
    const { privateKey } = generateKeyPairSync('ed25519');
    try {
      // 'wx': created only if absent, owner-only from the first byte; two runs of one grant never mix keys.
      const handle = await fs.open(this.keyFile(grantId), 'wx', 0o600);
      try {
        await handle.writeFile(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'utf8');
      } finally {
        await handle.close();
      }
      return withPublic(privateKey);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return withPublic((await this.privateKey(grantId))!);
    }
  }

  /** The stored private key, or undefined when this grant has none here. */
  async privateKey(grantId: string): Promise<KeyObject | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.keyFile(grantId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return createPrivateKey(text);
  }

  async saveRecord(record: ChannelRecord): Promise<void> {
    await privateFolder(this.folder(record.grantId));
    await writePrivateFile(this.recordFile(record.grantId, record.machineId), `${JSON.stringify(record, null, 2)}\n`);
  }

  async record(grantId: string, machineId: string): Promise<ChannelRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.recordFile(grantId, machineId), 'utf8')) as ChannelRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Forgets one machine's channel; the grant's key goes with its last machine. */
  async forget(grantId: string, machineId: string): Promise<void> {
    await fs.rm(this.recordFile(grantId, machineId), { force: true });
    const left = await fs.readdir(this.folder(grantId)).catch(() => [] as string[]);
    if (!left.some((name) => name.startsWith('machine-'))) await fs.rm(this.folder(grantId), { recursive: true, force: true });
  }

  private recordFile(grantId: string, machineId: string): string {
    const digest = createHash('sha256').update(machineId.toLowerCase()).digest('hex').slice(0, 16);
    return path.join(this.folder(grantId), `machine-${digest}.json`);
  }
}

function withPublic(privateKey: KeyObject): GrantKeyPair {
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string };
}
