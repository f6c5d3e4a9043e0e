/**
 * Reads an upload container SAS from a file (never from the command line, where it would stay in
 * the shell's history and the process list) and checks it with the node's own rule
 * (diag/upload-sas.ts) before anything is sent. Messages name the option and the file, never the
 * SAS: its signature is a bearer secret.
 */
import { promises as fs } from 'fs';
import { UploadSasError, checkUploadSas, type UploadSas } from '../../diag/upload-sas';
import { InputError } from '../errors';

export interface ContainerSas {
  /** The SAS URL as the node receives it. Secret. */
  url: string;
  /** Its values never to be shown: the URL and its signature, as sent and decoded. */
  secrets: string[];
  /** `<account>/<container>`, safe to print. */
  container: string;
  expiresOn: Date;
}

export interface ContainerSasOptions {
  now: Date;
  /** Azurite on a loopback address (in-process tests only; no option or variable sets it). */
  allowStorageEmulator?: boolean;
}

export async function readContainerSasFile(option: string, file: string, options: ContainerSasOptions): Promise<ContainerSas> {
  let text: string;
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new InputError(option, file, 'Give the path of a file holding the container SAS URL on one line.');
    // Like an SSH key: a SAS others can read may be used by them, one others can write may be swapped
    // for theirs. Windows keeps this in ACLs, which mode bits do not show: checked elsewhere only.
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0)
      throw new InputError(
        option,
        file,
        `The file is readable or writable by other users (mode ${(stat.mode & 0o777).toString(8)}): the SAS in it is a secret. Fix: chmod 600 ${file}, and issue a new SAS if others may have read it.`,
      );
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(
      option,
      file,
      `The file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); give the path of a file holding the container SAS URL on one line.`,
    );
  }
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (lines.length !== 1)
    throw new InputError(
      option,
      file,
      `The file holds ${lines.length} non-empty lines; it must hold the container SAS URL alone, on one line.`,
    );
  const url = lines[0]!;
  let checked: UploadSas;
  try {
    checked = checkUploadSas(url, { now: options.now, allowLoopbackEmulator: options.allowStorageEmulator === true });
  } catch (error) {
    // The check's messages never hold the signature.
    if (error instanceof UploadSasError) throw new InputError(option, file, `The SAS in the file: ${error.message}`);
    throw error;
  }
  return { url, secrets: secretsOf(url), container: `${checked.account}/${checked.container}`, expiresOn: checked.expiresOn };
}

function secretsOf(url: string): string[] {
  const signature = /[?&]sig=([^&#]*)/i.exec(url)?.[1] ?? '';
  const decoded = safeDecode(signature);
  return [url, signature, decoded].filter((value) => value.length >= 4);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
