/**
 * The owner's consent to engineers' log collections under a grant (DESIGN section 9): the grant
 * may carry, in protected settings only, `"logUpload": { "containerSas": "https://<account>.blob.core.windows.net/<container>?sp=cw&sr=c&..." }`
 * (the CLI's `grant --log-container-sas-file`). Without it, engineers cannot collect under that
 * grant. Checked like the owner's own request's SAS, before anything is applied; an error names the
 * field and the fix and never quotes the signature.
 */
import { createHash } from 'crypto';
import { UploadSasError, checkUploadSas } from '../diag/upload-sas';
import type { Grant } from '../core/desired-state';
import type { LogUploadGrant } from '../core/log-upload-grant';
import { ConfigurationError } from '../extension/errors';

const PROTECTED = 'protectedSettings.logUpload';

export interface LogUploadSettings {
  record: LogUploadGrant;
  /** The container SAS URL, checked. Secret. */
  sas: string;
}

/**
 * Undefined when the settings give no grant, or a grant without log uploads; 'keep' when protected
 * settings did not come at all (a public-only re-send: Azure never returns them), so each node
 * keeps the SAS it has for the same grant.
 */
export function readLogUploadSettings(
  protectedSettings: Record<string, unknown> | undefined,
  grant: Grant | undefined,
  now: Date,
  options: { allowStorageEmulator: boolean },
): LogUploadSettings | 'keep' | undefined {
  if (!grant) return undefined;
  if (protectedSettings === undefined) return 'keep';
  const section = protectedSettings.logUpload;
  if (section === undefined) return undefined;
  if (typeof section !== 'object' || section === null || Array.isArray(section))
    throw new ConfigurationError(
      PROTECTED,
      shapeOf(section),
      'an object with containerSas, the container SAS URL the engineers may upload logs to under this grant',
    );
  const containerSas = (section as Record<string, unknown>).containerSas;
  let checked;
  try {
    checked = checkUploadSas(containerSas, { now, allowLoopbackEmulator: options.allowStorageEmulator });
  } catch (error) {
    if (!(error instanceof UploadSasError)) throw error;
    // The check's messages name the field and never hold the signature.
    const field = `${PROTECTED}.containerSas${error.field.replace(/^sasUrl/, '')}`;
    throw new ConfigurationError(field, 'a SAS that cannot be used', error.message.replace(/\.$/, ''));
  }
  return {
    sas: containerSas as string,
    record: {
      grantId: grant.grantId,
      container: `${checked.account}/${checked.container}`,
      sasDigest: createHash('sha256')
        .update(containerSas as string)
        .digest('hex'),
      sasExpiresAt: checked.expiresOn,
    },
  };
}

/** Protected settings are never quoted: only the kind of value is named. */
function shapeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'text' : `a ${typeof value}`;
}
