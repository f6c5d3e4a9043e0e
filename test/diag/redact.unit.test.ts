import { generateKeyPairSync } from 'crypto';
import { Readable } from 'stream';
import { HOLD, MAX_PENDING, REDACTED_TEXT, RedactingStream, SecretRedactor, redactText, type RedactionKind } from '../../diag/redact';

/** A real RSA key, made for this run: no key is committed. */
const RSA_PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const KEY_FIRST_LINE = RSA_PEM.split('\n')[1]!;
/** PEM boundary lines, made at run time (no tracked file carries one). */
const pem = (edge: 'BEGIN' | 'END', label = 'PRIVATE KEY') => `-----${edge} ${label}-----`;
const JWT = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tIn0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLXRva2Vu';

/** A secret as it appears in a log line, the text that must vanish, and its kind. */
const SAMPLES: Array<{ kind: RedactionKind; line: string; secret: string }> = [
  {
    kind: 'sasSignature',
    line: 'PUT https://acct.blob.core.windows.net/c/b?sv=2024-08-04&sp=cw&sig=AbCdEf%2BgH1%2F2kLmN%3D&se=2026 ok',
    secret: 'AbCdEf%2BgH1%2F2kLmN%3D',
  },
  {
    kind: 'accountKey',
    line: 'conn=DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=x',
    secret: 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==',
  },
  {
    kind: 'accountKey',
    line: 'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=q1w2e3r4t5y6u7i8o9p0ASDFGHJKL=',
    secret: 'q1w2e3r4t5y6u7i8o9p0ASDFGHJKL=',
  },
  { kind: 'bearerToken', line: 'Authorization: Bearer abc.DEF-ghi_jkl~mno+pqr/stu== next', secret: 'abc.DEF-ghi_jkl~mno+pqr/stu==' },
  { kind: 'jwt', line: `token ${JWT} end`, secret: JWT },
  {
    kind: 'privateKey',
    line: `key:\n${RSA_PEM}after`,
    secret: KEY_FIRST_LINE,
  },
  { kind: 'password', line: 'net use x: /user:a password=S3cr3t!Value; done', secret: 'S3cr3t!Value' },
  { kind: 'password', line: '{"user":"a","password":"p@ss \\" word","x":1}', secret: 'p@ss \\" word' },
];

async function streamed(chunks: Buffer[], options = {}): Promise<{ text: string; counts: Record<string, number> }> {
  const stream = new RedactingStream(options);
  const parts: Buffer[] = [];
  Readable.from(chunks).pipe(stream);
  for await (const part of stream) parts.push(Buffer.from(part as string));
  return { text: Buffer.concat(parts).toString('utf8'), counts: stream.counts as Record<string, number> };
}

describe('redaction of secrets in text logs', () => {
  it.each(SAMPLES)('removes a $kind and counts it', ({ kind, line, secret }) => {
    const result = redactText(`before\n${line}\nafter\n`);
    expect(result.text).not.toContain(secret);
    expect(result.text).toContain(REDACTED_TEXT);
    expect(result.text.startsWith('before\n')).toBe(true);
    expect(result.text.endsWith('\nafter\n')).toBe(true);
    expect(result.counts).toEqual({ [kind]: 1 });
  });

  it('keeps what identifies the setting and leaves ordinary text alone', () => {
    const ordinary = 'signature verified; design=ok; bearer of news; AccountKeyName=x; eyJ alone; -----BEGIN CERTIFICATE-----\n';
    expect(redactText(ordinary)).toEqual({ text: ordinary, counts: {} });
    expect(redactText('a?sv=1&sig=XYZ123&se=2').text).toBe(`a?sv=1&sig=${REDACTED_TEXT}&se=2`);
    expect(redactText('AccountKey=abc;').text).toBe(`AccountKey=${REDACTED_TEXT};`);
  });

  it('finds every secret whatever offset a chunk boundary falls at', async () => {
    for (const { line, secret, kind } of SAMPLES) {
      const bytes = Buffer.from(`x ${line} y`, 'utf8');
      const whole = redactText(bytes.toString('utf8'));
      for (let offset = 1; offset < bytes.length; offset++) {
        const result = await streamed([bytes.subarray(0, offset), bytes.subarray(offset)]);
        if (result.text !== whole.text || result.text.includes(secret) || result.counts[kind] !== 1) {
          throw new Error(`split at ${offset} of ${kind}: ${result.text}`);
        }
      }
      const oneByteChunks = [...bytes].map((byte) => Buffer.from([byte]));
      expect((await streamed(oneByteChunks)).text).toBe(whole.text);
    }
  });

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = Buffer.from('héllo wörld 日本 password=日本語secret; ok', 'utf8');
    for (let offset = 1; offset < bytes.length; offset++) {
      const result = await streamed([bytes.subarray(0, offset), bytes.subarray(offset)]);
      expect(result.text).toBe(`héllo wörld 日本 password=${REDACTED_TEXT}; ok`);
    }
  });

  it('passes large text through with bounded holding and the same result', async () => {
    const filler = 'INFO 2026-01-01T00:00:00Z something happened here\n'.repeat(20000);
    const text = `${filler}sig=SECRETSIG1&${filler}Bearer TOKENVALUE2TOKENVALUE2\n${filler}`;
    const chunks: Buffer[] = [];
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += 65536) chunks.push(bytes.subarray(at, at + 65536));
    const result = await streamed(chunks);
    expect(result.text.length).toBe(text.length - 'SECRETSIG1'.length - 'TOKENVALUE2TOKENVALUE2'.length + 2 * REDACTED_TEXT.length);
    expect(result.counts).toEqual({ sasSignature: 1, bearerToken: 1 });
  });

  it('fails closed on a private key block with no end: redacted to the end, memory bounded', () => {
    const redactor = new SecretRedactor();
    let out = redactor.write(`start\n${pem('BEGIN')}\n`);
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\n';
    for (let written = 0; written < MAX_PENDING + 2 * HOLD; written += line.length * 100) out += redactor.write(line.repeat(100));
    out += redactor.write(`${line}${pem('END')}\nvisible after\n`);
    out += redactor.end();
    expect(out).not.toContain('QUJDREVG');
    expect(out.startsWith('start\n')).toBe(true);
    expect(out.endsWith('\nvisible after\n')).toBe(true);
    expect(redactor.counts).toEqual({ privateKey: 1 });
    expect(redactText(`${pem('BEGIN', 'EC PRIVATE KEY')}\nQUJD\n`).text).not.toContain('QUJD');
  });

  it('redacts the rest of a key block at the start of a kept tail', () => {
    const tail = `Gm1cZqW\nq8n0Zl1m2sYkq3Jx7vT0yTQx3b9Rk2dJ0aP4f==\n${pem('END')}\nlater line\n`;
    const result = redactText(tail, { startsMidFile: true });
    expect(result.text).toBe(`${REDACTED_TEXT}${pem('END')}\nlater line\n`);
    expect(result.counts).toEqual({ privateKey: 1 });
    expect(redactText(tail).text).toContain('q8n0Zl1m2s');
  });
});
