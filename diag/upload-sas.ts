/**
 * Checks the container SAS a collection uploads to (it reaches the node in protected settings)
 * before any request is made: https, an Azure Storage blob host, a container SAS (sr=c) granting
 * create and write only, not expired. Messages name the field and the fix and never hold the
 * signature: the SAS is a secret, and errors end up in status and history.
 */

/** Blob endpoints of Azure's public and sovereign clouds. */
export const STORAGE_BLOB_SUFFIXES = [
  'blob.core.windows.net',
  'blob.core.chinacloudapi.cn',
  'blob.core.usgovcloudapi.net',
  'blob.core.cloudapi.de',
];

/** Permissions a write-only upload may carry: create and write. */
const ALLOWED_PERMISSIONS = new Set(['c', 'w']);
/** Less time than this left and the upload is not started (a bundle takes minutes to send). */
export const MIN_REMAINING_MS = 2 * 60 * 1000;
/** A start time this far ahead of the node's clock is allowed for (clock skew). */
const START_SKEW_MS = 5 * 60 * 1000;

export interface SasCheckOptions {
  now?: Date;
  /**
   * Accept Azurite on a loopback address over http with its path-style URL
   * (`http://127.0.0.1:<port>/<account>/<container>`). Tests only; never set by the agent.
   */
  allowLoopbackEmulator?: boolean;
}

export interface UploadSas {
  /** The container URL with its SAS, for the SDK. Secret. */
  containerUrl: string;
  account: string;
  container: string;
  expiresOn: Date;
  /** The URL without its signature, safe to log. */
  redacted: string;
}

export class UploadSasError extends Error {
  override readonly name = 'UploadSasError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const FIX = 'Issue a new container SAS with sp=cw, sr=c, spr=https and an expiry after the collection ends.';

/** The URL with `sig` (and anything after `#`) replaced, for messages and logs. */
export function redactSasUrl(raw: string): string {
  const withoutFragment = String(raw).split('#')[0]!;
  return withoutFragment.replace(/([?&]sig=)[^&]*/gi, '$1[redacted]');
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function checkUploadSas(raw: unknown, options: SasCheckOptions = {}): UploadSas {
  const now = options.now ?? new Date();
  if (typeof raw !== 'string' || raw.trim() === '') throw new UploadSasError('sasUrl', `sasUrl is empty: ${FIX}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UploadSasError('sasUrl', `sasUrl is not a URL: ${FIX}`);
  }
  const shown = redactSasUrl(`${url.origin}${url.pathname}`);
  if (url.username || url.password)
    throw new UploadSasError('sasUrl', `sasUrl ${shown} carries a user name or password: give the container URL and its SAS only.`);
  const emulator =
    options.allowLoopbackEmulator === true && LOOPBACK.has(url.hostname) && (url.protocol === 'http:' || url.protocol === 'https:');
  if (!emulator && url.protocol !== 'https:')
    throw new UploadSasError(
      'sasUrl.protocol',
      `sasUrl ${shown} uses ${url.protocol.replace(':', '')}: the upload goes over https only. ${FIX}`,
    );
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  let account: string;
  let container: string | undefined;
  if (emulator) {
    [account = '', container] = segments;
    if (segments.length !== 2)
      throw new UploadSasError(
        'sasUrl.path',
        `sasUrl ${shown} must name the emulator's account and one container (/<account>/<container>).`,
      );
  } else {
    const host = url.hostname.toLowerCase();
    const suffix = STORAGE_BLOB_SUFFIXES.find((candidate) => host.endsWith(`.${candidate}`));
    account = suffix ? host.slice(0, -suffix.length - 1) : '';
    if (!suffix || !/^[a-z0-9]{3,24}$/.test(account) || url.port !== '') {
      throw new UploadSasError(
        'sasUrl.host',
        `sasUrl host '${url.host}' is not an Azure Storage blob endpoint (<account>.${STORAGE_BLOB_SUFFIXES[0]} or a sovereign cloud's): use the storage account's blob URL.`,
      );
    }
    [container] = segments;
    if (segments.length !== 1)
      throw new UploadSasError('sasUrl.path', `sasUrl ${shown} must name one container and no blob: use a container SAS URL.`);
  }
  if (!container || !/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/.test(container)) {
    throw new UploadSasError(
      'sasUrl.path',
      `sasUrl ${shown}: '${container ?? ''}' is not a container name (3-63 lower-case letters, digits, single '-').`,
    );
  }

  const query = url.searchParams;
  for (const name of new Set([...query.keys()])) {
    if (query.getAll(name).length > 1)
      throw new UploadSasError(`sasUrl.${name}`, `sasUrl has '${name}' more than once: give each SAS field once.`);
  }
  const required = (name: string, what: string): string => {
    const value = query.get(name);
    if (!value) throw new UploadSasError(`sasUrl.${name}`, `sasUrl has no '${name}' (${what}): ${FIX}`);
    return value;
  };
  required('sig', 'the signature');
  required('sv', 'the service version');
  const resource = required('sr', 'the signed resource');
  if (resource !== 'c') throw new UploadSasError('sasUrl.sr', `sasUrl has sr=${resource}: it must be a container SAS (sr=c). ${FIX}`);
  const permissions = required('sp', 'the permissions');
  const extra = [...permissions].filter((letter) => !ALLOWED_PERMISSIONS.has(letter));
  if (extra.length > 0 || !permissions.includes('w')) {
    throw new UploadSasError(
      'sasUrl.sp',
      `sasUrl has sp=${permissions}: the upload SAS must allow write and create only (sp=cw)${extra.length ? `, not ${extra.join(', ')}` : ', and w is missing'}. ${FIX}`,
    );
  }
  const protocols = query.get('spr');
  if (protocols !== null && protocols !== 'https' && !(emulator && protocols === 'https,http')) {
    throw new UploadSasError('sasUrl.spr', `sasUrl has spr=${protocols}: the SAS must be limited to https (spr=https). ${FIX}`);
  }
  const expiry = required('se', 'the expiry');
  const expiresOn = new Date(expiry);
  if (Number.isNaN(expiresOn.getTime())) throw new UploadSasError('sasUrl.se', `sasUrl has se=${expiry}, not a time: ${FIX}`);
  if (expiresOn.getTime() - now.getTime() < MIN_REMAINING_MS) {
    throw new UploadSasError('sasUrl.se', `sasUrl expired or expires too soon (se=${expiry}, now ${now.toISOString()}): ${FIX}`);
  }
  const start = query.get('st');
  if (start !== null) {
    const startsOn = new Date(start);
    if (Number.isNaN(startsOn.getTime()) || startsOn.getTime() > now.getTime() + START_SKEW_MS) {
      throw new UploadSasError(
        'sasUrl.st',
        `sasUrl has st=${start}, which is not yet valid (now ${now.toISOString()}): issue it without a start time or one in the past.`,
      );
    }
  }
  return { containerUrl: url.toString(), account, container, expiresOn, redacted: redactSasUrl(url.toString()) };
}
