/**
 * Protected settings decryption on Linux (tests, and the Linux Azure agent's layout): the agent
 * keeps each certificate as `<certDir>/<THUMBPRINT>.crt` with its key in `<THUMBPRINT>.prv`, and
 * `openssl cms -decrypt` does the work (Node's own RSA PKCS#1 v1.5 decryption is disabled).
 */
import { X509Certificate, createPrivateKey } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';
import { ConfigurationError, MissingDependencyError, describeValue } from './errors';
import {
  SETTINGS_FIELD,
  THUMBPRINT_FIELD,
  decodeProtectedSettingsBase64,
  decodeUtf8Plaintext,
  describeProtectedSettings,
  normalizeThumbprint,
  type ProtectedSettingsDecryptor,
} from './protected-settings';
import { describeAbnormalRun, firstLine, missingExecutable, runDecryptTool } from './run-tool';

export interface OpensslDecryptorOptions {
  /** Folder holding `<THUMBPRINT>.crt` and `<THUMBPRINT>.prv`. */
  certDir: string;
  /** The openssl executable; default `openssl` from PATH. */
  opensslPath?: string;
  /** openssl is killed after this long; default 30 s. */
  timeoutMs?: number;
}

export class OpensslDecryptor implements ProtectedSettingsDecryptor {
  private readonly certDir: string;
  private readonly opensslPath: string;
  private readonly timeoutMs: number;

  constructor(options: OpensslDecryptorOptions) {
    this.certDir = options.certDir;
    this.opensslPath = options.opensslPath ?? 'openssl';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async decrypt(base64Cms: string, thumbprint: string): Promise<string> {
    const thumb = normalizeThumbprint(thumbprint);
    const der = decodeProtectedSettingsBase64(base64Cms);
    const crt = path.join(this.certDir, `${thumb}.crt`);
    const prv = path.join(this.certDir, `${thumb}.prv`);
    await this.checkKeyPair(thumbprint, thumb, crt, prv);

    const run = await runDecryptTool(
      this.opensslPath,
      ['cms', '-decrypt', '-inform', 'DER', '-recip', crt, '-inkey', prv],
      der,
      this.timeoutMs,
    );
    if (run.kind === 'notStarted') throw missingExecutable('openssl', this.opensslPath, run.code);
    if (run.kind !== 'exited') throw new Error(describeAbnormalRun('openssl', run, this.timeoutMs));
    // On failure openssl may already have written bytes (decryption with a random key, its
    // countermeasure against padding oracles): stdout is used only after a clean exit.
    if (run.exitCode !== 0) {
      const reason = firstLine(run.stderr.toString('utf8')) || `openssl exit code ${run.exitCode}`;
      throw new ConfigurationError(
        SETTINGS_FIELD,
        `${describeProtectedSettings(base64Cms)} that could not be decrypted (${reason})`,
        `base64 CMS EnvelopedData encrypted to the certificate with thumbprint ${thumb}`,
      );
    }
    const text = decodeUtf8Plaintext(run.stdout);
    if (text === undefined) {
      throw new ConfigurationError(
        SETTINGS_FIELD,
        `${describeProtectedSettings(base64Cms)} that decrypted to bytes that are not UTF-8 text`,
        'base64 CMS EnvelopedData of UTF-8 JSON text',
      );
    }
    return text;
  }

  /**
   * Loads the certificate and key in Node first, so that a failure of openssl afterwards can only
   * be the data's fault: openssl reports unreadable key files and undecodable input with one exit
   * code, and with a key that does not match the certificate it "succeeds" on garbage.
   */
  private async checkKeyPair(thumbprint: string, thumb: string, crt: string, prv: string): Promise<void> {
    let crtPem: Buffer;
    let prvPem: Buffer;
    try {
      [crtPem, prvPem] = await Promise.all([fs.readFile(crt), fs.readFile(prv)]);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ConfigurationError(
          THUMBPRINT_FIELD,
          describeValue(thumbprint),
          `the thumbprint of a certificate installed with its private key (${thumb}.crt and ${thumb}.prv in ${this.certDir})`,
        );
      }
      throw new MissingDependencyError(
        `Cannot read the certificate files for thumbprint ${thumb} in ${this.certDir}: ${(error as Error).message}`,
      );
    }
    try {
      const cert = new X509Certificate(crtPem);
      if (!cert.checkPrivateKey(createPrivateKey(prvPem))) throw new Error('the private key does not belong to the certificate');
    } catch (error) {
      throw new MissingDependencyError(
        `The certificate ${thumb}.crt or its key ${thumb}.prv in ${this.certDir} is unusable: ${(error as Error).message}`,
      );
    }
  }
}
