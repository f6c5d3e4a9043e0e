/**
 * What a node's desired-state record says about the log uploads its grant allows (DESIGN section 9,
 * the engineer's collection): the owner's grant may carry a container SAS in protected settings;
 * the node keeps the SAS machine-protected beside the record (LOG_UPLOAD_SAS_FILE) for that grant
 * only, and the record names it by digest, so a new SAS is written once and an unchanged one never
 * again. Without this, engineers cannot collect under the grant. Nothing here is secret.
 */
export interface LogUploadGrant {
  /** The grant the SAS came with: it never serves another grant. */
  grantId: string;
  /** The upload container (`account/container`), for status and refusals. */
  container: string;
  /** SHA-256 (hex) of the SAS URL: tells a new SAS from the one already stored. */
  sasDigest: string;
  /** When the SAS expires (its `se`). */
  sasExpiresAt: Date;
}

export function storeLogUploadGrant(upload: LogUploadGrant): Record<string, string> {
  return {
    grantId: upload.grantId,
    container: upload.container,
    sasDigest: upload.sasDigest,
    sasExpiresAt: upload.sasExpiresAt.toISOString(),
  };
}

/** Reads the record's log upload; anything malformed gives none (fail closed: engineers cannot collect). */
export function readLogUploadGrant(value: unknown): LogUploadGrant | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const fields = value as Record<string, unknown>;
  const text = (name: string) => (typeof fields[name] === 'string' && fields[name] !== '' ? (fields[name] as string) : undefined);
  const grantId = text('grantId');
  const container = text('container');
  const sasDigest = text('sasDigest');
  const expires = new Date(text('sasExpiresAt') ?? NaN);
  if (!grantId || !container || !sasDigest || !/^[0-9a-f]{64}$/.test(sasDigest) || Number.isNaN(expires.getTime())) return undefined;
  return { grantId, container, sasDigest, sasExpiresAt: expires };
}
