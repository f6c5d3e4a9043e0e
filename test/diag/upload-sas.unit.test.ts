import { UploadSasError, checkUploadSas, redactSasUrl } from '../../diag/upload-sas';

const NOW = new Date('2026-03-10T12:00:00Z');
const SIG = 'Zm9vYmFyU0VDUkVUc2lnbmF0dXJl%2B%2F%3D';
const sas = (query: Record<string, string>, base = 'https://contosologs.blob.core.windows.net/diag') =>
  `${base}?${Object.entries({ sv: '2025-01-05', sr: 'c', sp: 'cw', se: '2026-03-10T20:00:00Z', spr: 'https', ...query, sig: SIG })
    .filter(([, value]) => value !== '')
    .map(([key, value]) => `${key}=${value}`)
    .join('&')}`;

function refusal(raw: string, options = {}): UploadSasError {
  try {
    checkUploadSas(raw, { now: NOW, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(UploadSasError);
    return error as UploadSasError;
  }
  throw new Error(`accepted: ${raw}`);
}

describe('the upload SAS check', () => {
  it('accepts a create/write container SAS on Azure Storage, public and sovereign clouds', () => {
    const checked = checkUploadSas(sas({}), { now: NOW });
    expect(checked).toMatchObject({ account: 'contosologs', container: 'diag', expiresOn: new Date('2026-03-10T20:00:00Z') });
    expect(checked.redacted).not.toContain(SIG);
    expect(checked.redacted).toContain('sig=[redacted]');
    for (const host of ['a1b2c.blob.core.chinacloudapi.cn', 'a1b2c.blob.core.usgovcloudapi.net']) {
      expect(checkUploadSas(sas({ sp: 'w' }, `https://${host}/diag`), { now: NOW }).account).toBe('a1b2c');
    }
  });

  it.each([
    ['http', sas({}, 'http://contosologs.blob.core.windows.net/diag'), 'sasUrl.protocol', /https only/],
    [
      'a foreign host',
      sas({}, 'https://contosologs.blob.core.windows.net.evil.example/diag'),
      'sasUrl.host',
      /not an Azure Storage blob endpoint/,
    ],
    ['a lookalike host', sas({}, 'https://evilblob.core.windows.net/diag'), 'sasUrl.host', /not an Azure Storage/],
    ['a queue host', sas({}, 'https://contosologs.queue.core.windows.net/diag'), 'sasUrl.host', /not an Azure Storage/],
    ['a port', sas({}, 'https://contosologs.blob.core.windows.net:8443/diag'), 'sasUrl.host', /not an Azure Storage/],
    [
      'loopback without the test allowance',
      sas({}, 'https://127.0.0.1:10000/devstoreaccount1/diag'),
      'sasUrl.host',
      /not an Azure Storage/,
    ],
    ['a blob SAS', sas({ sr: 'b' }, 'https://contosologs.blob.core.windows.net/diag/x.zip'), 'sasUrl.path', /one container and no blob/],
    ['sr=b', sas({ sr: 'b' }), 'sasUrl.sr', /container SAS \(sr=c\)/],
    ['read', sas({ sp: 'rcw' }), 'sasUrl.sp', /not r/],
    ['list', sas({ sp: 'cwl' }), 'sasUrl.sp', /not l/],
    ['delete', sas({ sp: 'cwd' }), 'sasUrl.sp', /not d/],
    ['add', sas({ sp: 'acw' }), 'sasUrl.sp', /not a/],
    ['create only', sas({ sp: 'c' }), 'sasUrl.sp', /w is missing/],
    ['expired', sas({ se: '2026-03-10T11:00:00Z' }), 'sasUrl.se', /expired/],
    ['about to expire', sas({ se: '2026-03-10T12:01:00Z' }), 'sasUrl.se', /expires too soon/],
    ['no expiry', sas({ se: '' }), 'sasUrl.se', /no 'se'/],
    ['a future start', sas({ st: '2026-03-10T13:00:00Z' }), 'sasUrl.st', /not yet valid/],
    ['http allowed', sas({ spr: 'https,http' }), 'sasUrl.spr', /spr=https/],
    ['no signature', sas({}).replace(/&sig=[^&]*/, ''), 'sasUrl.sig', /no 'sig'/],
    ['two permissions fields', `${sas({})}&sp=racwdl`, 'sasUrl.sp', /more than once/],
    ['credentials', sas({}, 'https://user:pw@contosologs.blob.core.windows.net/diag'), 'sasUrl', /user name or password/],
  ])('refuses %s, naming the field and the fix, without the signature', (_name, raw, field, message) => {
    const error = refusal(raw);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SIG);
    expect(error.message).not.toContain(decodeURIComponent(SIG));
    expect(JSON.stringify(error)).not.toContain(SIG);
    expect(String(error.stack)).not.toContain(SIG);
  });

  it('refuses what is not a URL at all', () => {
    expect(refusal('').field).toBe('sasUrl');
    expect(refusal(`not a url sig=${SIG}`).message).not.toContain(SIG);
  });

  it('accepts the loopback emulator over http only with the test allowance', () => {
    const emulator = sas({ spr: 'https,http' }, 'http://127.0.0.1:10000/devstoreaccount1/diag');
    expect(refusal(emulator).field).toBe('sasUrl.protocol');
    expect(checkUploadSas(emulator, { now: NOW, allowLoopbackEmulator: true })).toMatchObject({
      account: 'devstoreaccount1',
      container: 'diag',
    });
    expect(refusal(sas({}, 'http://10.0.0.5:10000/devstoreaccount1/diag'), { allowLoopbackEmulator: true }).field).toBe('sasUrl.protocol');
  });

  it('redacts the signature wherever it is in a URL', () => {
    expect(redactSasUrl(`https://a/b?SIG=${SIG}&sp=cw`)).toBe('https://a/b?SIG=[redacted]&sp=cw');
  });
});
