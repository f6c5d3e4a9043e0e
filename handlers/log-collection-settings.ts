/**
 * The owner's request to collect diagnostic logs (DESIGN section 9), in two parts:
 * - public settings: `"logCollection": { "requestId": "<UUID>", "window": { "from": "...Z", "to": "...Z" },
 *   "categories": ["ArcRemoteSupport", ...], "includeSecurityLog": false }`;
 * - protected settings: `"logCollection": { "containerSas": "https://<account>.blob.core.windows.net/<container>?sp=cw&sr=c&..." }`.
 * No grant is needed: the owner asks for their own machine. Checked before anything is applied; an
 * error names the field and the fix and never quotes the SAS's signature.
 */
import { CollectionRequestError, checkCategories, checkWindow } from '../diag/collect-plan';
import { UploadSasError, checkUploadSas } from '../diag/upload-sas';
import { isCollectionId, type LogCollectionRequest } from '../core/log-collection-record';
import { ConfigurationError, describeValue } from '../extension/errors';

const PUBLIC = 'logCollection';
const PROTECTED = 'protectedSettings.logCollection';

export interface LogCollectionSettings {
  request: LogCollectionRequest;
  /** The container SAS URL, checked. Secret. */
  containerSas: string;
}

interface PublicLogCollection {
  requestId?: unknown;
  window?: { from?: unknown; to?: unknown };
  categories?: unknown;
  includeSecurityLog?: unknown;
}

/** Undefined when neither part asks for a collection. */
export function readLogCollectionSettings(
  publicSettings: Record<string, unknown>,
  protectedSettings: Record<string, unknown> | undefined,
  now: Date,
  options: { allowStorageEmulator: boolean },
): LogCollectionSettings | undefined {
  const visible = publicSettings.logCollection as PublicLogCollection | undefined;
  const secret = protectedSettings?.logCollection;
  if (visible === undefined && secret === undefined) return undefined;
  if (visible === undefined)
    throw new ConfigurationError(
      PUBLIC,
      'nothing, while protected settings carry a log collection SAS',
      'the public logCollection section (requestId, window, categories) beside it',
    );
  if (!isCollectionId(visible.requestId))
    throw new ConfigurationError(`${PUBLIC}.requestId`, describeValue(visible.requestId), 'a UUID that names this collection');
  let window: { from: string; to: string };
  let categories: string[];
  try {
    window = checkWindow(visible.window as { from: string; to: string }, now);
    categories = checkCategories(visible.categories as string[]);
  } catch (error) {
    if (!(error instanceof CollectionRequestError)) throw error;
    throw new ConfigurationError(`${PUBLIC}.${error.field}`, 'a value that cannot be collected', error.message.replace(/\.$/, ''));
  }
  if (visible.includeSecurityLog !== undefined && typeof visible.includeSecurityLog !== 'boolean')
    throw new ConfigurationError(`${PUBLIC}.includeSecurityLog`, describeValue(visible.includeSecurityLog), 'true or false');
  if (typeof secret !== 'object' || secret === null || Array.isArray(secret))
    throw new ConfigurationError(PROTECTED, shapeOf(secret), 'an object with containerSas, the upload container SAS URL');
  const containerSas = (secret as Record<string, unknown>).containerSas;
  try {
    checkUploadSas(containerSas, { now, allowLoopbackEmulator: options.allowStorageEmulator });
  } catch (error) {
    if (!(error instanceof UploadSasError)) throw error;
    // The check's messages name the field and never hold the signature.
    const field = `${PROTECTED}.containerSas${error.field.replace(/^sasUrl/, '')}`;
    throw new ConfigurationError(field, 'a SAS that cannot be used', error.message.replace(/\.$/, ''));
  }
  return {
    containerSas: containerSas as string,
    request: {
      collectionId: visible.requestId.toLowerCase(),
      trigger: 'owner',
      requestedBy: 'the machine owner (extension settings)',
      requestedAt: now.toISOString(),
      window,
      categories,
      includeSecurityLog: visible.includeSecurityLog === true,
      grantId: null,
      supportRequestId: null,
    },
  };
}

function shapeOf(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'text' : `a ${typeof value}`;
}
