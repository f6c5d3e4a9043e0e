/**
 * The relay's TLS identity: a throwaway CA made with openssl at start, and a server certificate for
 * 127.0.0.1 and localhost that it signs. The CA's key is deleted once it has signed, so nothing else
 * can ever be issued under it; keys are never committed.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';

export interface RelayCertificate {
  keyPem: string;
  certPem: string;
  caPem: string;
  /** The CA alone, for clients that only take NODE_EXTRA_CA_CERTS. */
  caFile: string;
}

const SERVER_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=IP:127.0.0.1,DNS:localhost',
].join('\n');

// EC P-256 keys: made in milliseconds, where RSA takes noticeably longer on every start.
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makeRelayCertificate(dir: string): Promise<RelayCertificate> {
  const file = (name: string) => path.join(dir, name);
  await execa('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-days',
    '2',
    '-subj',
    '/CN=arc-remote-support test relay CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    file('relay-ca.key'),
    '-out',
    file('relay-ca.crt'),
  ]);
  await execa('openssl', ['req', ...EC_KEY, '-subj', '/CN=localhost', '-keyout', file('relay.key'), '-out', file('relay.csr')]);
  await fs.writeFile(file('relay.ext'), `${SERVER_EXTENSIONS}\n`);
  await execa('openssl', [
    'x509',
    '-req',
    '-in',
    file('relay.csr'),
    '-CA',
    file('relay-ca.crt'),
    '-CAkey',
    file('relay-ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('relay.ext'),
    '-out',
    file('relay.crt'),
  ]);
  await fs.rm(file('relay-ca.key'));
  const [keyPem, certPem, caPem] = await Promise.all(
    ['relay.key', 'relay.crt', 'relay-ca.crt'].map((name) => fs.readFile(file(name), 'utf8')),
  );
  return { keyPem: keyPem!, certPem: certPem!, caPem: caPem!, caFile: file('relay-ca.crt') };
}
