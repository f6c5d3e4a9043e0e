/** A throwaway server certificate for 127.0.0.1 and localhost, made with openssl at start (keys are never committed). */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';

export interface ServerCertificate {
  keyPem: string;
  certPem: string;
  /** The self-signed certificate is its own CA: clients trust this file. */
  caFile: string;
}

export async function makeServerCertificate(dir: string): Promise<ServerCertificate> {
  const keyFile = path.join(dir, 'arm-emulator.key');
  const caFile = path.join(dir, 'arm-emulator-ca.crt');
  // An EC key: made in milliseconds, where RSA takes noticeably longer on every start.
  await execa('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    caFile,
  ]);
  const [keyPem, certPem] = await Promise.all([fs.readFile(keyFile, 'utf8'), fs.readFile(caFile, 'utf8')]);
  return { keyPem, certPem, caFile };
}
