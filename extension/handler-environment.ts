import { readFileSync } from 'fs';
import { join } from 'path';
import { MissingDependencyError } from './errors';

/** The folders the extension manager assigned to this extension (HandlerEnvironment.json). */
export interface HandlerEnvironment {
  logFolder: string;
  configFolder: string;
  statusFolder: string;
  heartbeatFile?: string;
  eventsFolder?: string;
}

export const HANDLER_ENVIRONMENT_FILE = 'HandlerEnvironment.json';

export interface ReadOptions {
  /** Attempts before giving up: the manager may still be writing the file when the command starts. */
  attempts?: number;
  delayMs?: number;
}

/**
 * Reads `<extensionRoot>/HandlerEnvironment.json`, retrying while it is missing or half-written.
 * Accepts the array form both agents write (`[{version, handlerEnvironment}]`) and a bare object,
 * and strips a UTF-8 byte-order mark.
 */
export async function readHandlerEnvironment(extensionRoot: string, options: ReadOptions = {}): Promise<HandlerEnvironment> {
  const file = join(extensionRoot, HANDLER_ENVIRONMENT_FILE);
  const attempts = options.attempts ?? 5;
  const delayMs = options.delayMs ?? 200;
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return parseHandlerEnvironment(readFileSync(file, 'utf8'), file);
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    if (attempt < attempts) await sleep(delayMs);
  }
  throw new MissingDependencyError(
    `Cannot use ${file} after ${attempts} attempts: ${lastProblem}. ` +
      'The extension manager writes this file before running a handler command; reinstall the extension if it is missing.',
  );
}

export function parseHandlerEnvironment(text: string, source: string): HandlerEnvironment {
  let document: unknown;
  try {
    document = JSON.parse(stripBom(text));
  } catch (error) {
    throw new Error(`${source} is not valid JSON (${(error as Error).message})`);
  }
  const entry = Array.isArray(document) ? document[0] : document;
  const environment = isObject(entry) ? entry.handlerEnvironment : undefined;
  if (!isObject(environment)) {
    throw new Error(`${source} has no 'handlerEnvironment' object`);
  }
  const required = (key: 'logFolder' | 'configFolder' | 'statusFolder'): string => {
    const value = environment[key];
    if (typeof value !== 'string' || value.length === 0) {
      throw new Error(`${source} has no '${key}' folder`);
    }
    return value;
  };
  const optional = (key: string): string | undefined => {
    const value = environment[key];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  return {
    logFolder: required('logFolder'),
    configFolder: required('configFolder'),
    statusFolder: required('statusFolder'),
    heartbeatFile: optional('heartbeatFile'),
    eventsFolder: optional('eventsFolder'),
  };
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
