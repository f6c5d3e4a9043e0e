/**
 * The secret file operations on a simulated node. DPAPI's machine-bound key is played by an
 * AES-256-GCM key per node, made on first use and kept in the model (NodeModel.dataProtectionKey):
 * the model never holds a secret in clear, and a file written on one node does not decrypt on
 * another, as with DPAPI. Semantics both simulated hosts share (the PowerShell stand-in encrypts
 * the same way, under the same key, for the real scripts):
 * - the path must be inside SECRET_FILE_FOLDER (else InvalidRequest), and its folder must exist
 *   (else NotFound, as writeFile);
 * - the file's text is the blob only: base64 of nonce (12 bytes), ciphertext of the secret's
 *   UTF-16LE (what a SecureString holds) and tag (16 bytes);
 * - writing the secret a file already holds -> `written: false`, nothing touched;
 * - reading a missing file -> `secret: null`; a file that does not decrypt -> Failed naming the path,
 *   never quoting the file.
 */
import { SECRET_FILE_FOLDER, isHostSecret, type OperationCatalog } from '../../windows/operations';
import * as files from './file-system';
import type { NodeModel } from './machine-model';
import { OperationFailure } from './operation-failure';
import { isSameOrInside, parseWindowsPath } from './windows-path';

type Request<N extends keyof OperationCatalog> = OperationCatalog[N][0];
type Result<N extends keyof OperationCatalog> = OperationCatalog[N][1];

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

// Node's crypto is loaded on use: it costs every handler start that loads the simulator.
function crypto(): typeof import('crypto') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('crypto') as typeof import('crypto');
}

/** The request's path, refused unless it is inside the data folder. */
function secretFilePath(raw: string): string {
  const path = files.requirePath(raw);
  const folder = parseWindowsPath(SECRET_FILE_FOLDER)!;
  if (path.key === folder.key || !isSameOrInside(path.key, folder.key)) {
    throw new OperationFailure(
      'InvalidRequest',
      `The secret file path '${raw}' is outside the data folder: secret files are kept only inside '${SECRET_FILE_FOLDER}'.`,
      raw,
    );
  }
  return path.text;
}

/** The node's key, made the first time the node protects or unprotects a secret (as the stand-in does). */
function machineKey(node: NodeModel): Buffer {
  node.dataProtectionKey ??= crypto().randomBytes(32).toString('base64');
  return Buffer.from(node.dataProtectionKey, 'base64');
}

function encrypt(key: Buffer, secret: string): string {
  const nonce = crypto().randomBytes(NONCE_BYTES);
  const cipher = crypto().createCipheriv('aes-256-gcm', key, nonce);
  const plain = Buffer.from(secret, 'utf16le');
  const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  plain.fill(0);
  return sealed.toString('base64');
}

/** The secret, or null when the blob does not decrypt under `key`. */
function decrypt(key: Buffer, blob: string): string | null {
  const sealed = Buffer.from(blob.trim(), 'base64');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) return null;
  try {
    const decipher = crypto().createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    const secret = plain.toString('utf16le');
    plain.fill(0);
    return secret;
  } catch {
    return null;
  }
}

function undecryptable(path: string): OperationFailure {
  return new OperationFailure(
    'Failed',
    `The secret file '${path}' cannot be decrypted on this machine: it was written on another machine or is damaged. Write the secret again on this node.`,
    path,
  );
}

export function writeSecretFile(ctx: files.NodeContext, request: Request<'writeSecretFile'>): Result<'writeSecretFile'> {
  const path = secretFilePath(request.path);
  if (!isHostSecret(request.secret)) throw new OperationFailure('InvalidRequest', "The request field 'secret' is not a secret.", path);
  const existing = files.readFile(ctx, { path });
  const key = machineKey(ctx.node);
  if (existing.exists && decrypt(key, existing.content ?? '') === request.secret.reveal()) return { written: false };
  files.writeFile(ctx, { path, content: encrypt(key, request.secret.reveal()) });
  return { written: true };
}

export function readSecretFile(ctx: files.NodeContext, request: Request<'readSecretFile'>): Result<'readSecretFile'> {
  const path = secretFilePath(request.path);
  const existing = files.readFile(ctx, { path });
  if (!existing.exists) return { secret: null };
  const secret = decrypt(machineKey(ctx.node), existing.content ?? '');
  if (secret === null) throw undecryptable(path);
  return { secret };
}
