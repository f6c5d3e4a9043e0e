import { ConfigurationError, describeValue, ExitCode, isConfigurationError, isHandlerError } from './errors';
import { readHandlerEnvironment, type HandlerEnvironment } from './handler-environment';
import { withLock } from './lock';
import { Logger } from './logger';
import type { ProtectedSettingsDecryptor } from './protected-settings';
import { Redactor } from './redaction';
import { resolveSequenceNumber } from './sequence-number';
import { parseSettingsFile, readSettingsBytes, settingsDigest } from './settings-file';
import type { SettingsSchema } from './settings-schema';
import { StatusWriter, type StatusValue, type SubStatus } from './status';
import { formatJsonPath, parseStrictJson, StrictJsonError } from './strict-json';
import { escapeUnsafe } from './unsafe-text';

export const OPERATIONS = ['install', 'enable', 'update', 'disable', 'uninstall'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** Settings of this run: public ones checked against the schema, protected ones decrypted. */
export interface LoadedSettings {
  sequenceNumber: number;
  /** No settings were sent yet (missing or empty file). */
  empty: boolean;
  publicSettings: Record<string, unknown>;
  protectedSettings?: Record<string, unknown>;
}

export interface OperationContext {
  operation: Operation;
  extensionRoot: string;
  handlerEnvironment: HandlerEnvironment;
  /** Undefined when the manager has sent no settings yet (for example before the first enable). */
  sequenceNumber?: number;
  environment: NodeJS.ProcessEnv;
  logger: Logger;
  /**
   * Reads, validates and decrypts this run's settings; throws ConfigurationError on bad input.
   * `publicOnly` skips decryption (on Windows a PowerShell launch) for callers that need none.
   */
  loadSettings(options?: { publicOnly?: boolean }): Promise<LoadedSettings>;
}

export interface OperationResult {
  status: Exclude<StatusValue, 'transitioning'>;
  message: string;
  substatus?: SubStatus[];
}

export type OperationHandler = (context: OperationContext) => Promise<OperationResult>;

export interface RuntimeConfig {
  /** `<Publisher>.<Type>`, the name in every status file. */
  handlerName: string;
  version: string;
  handlers: Record<Operation, OperationHandler>;
  settingsSchema: SettingsSchema;
  /** Made only when a run has protected settings, so its process-launching code loads only then. */
  decryptor: (extensionRoot: string, environment: NodeJS.ProcessEnv) => Promise<ProtectedSettingsDecryptor>;
  /** The file that serialises handler runs; shared by every installed version. */
  lockPath: (context: OperationContext) => string;
  /** Where the status writer records which settings content each status answers (see status.ts). */
  statusRecordFolder: (context: OperationContext) => string;
  /** How long a run waits for another to release the lock; default that of withLock. */
  lockWaitMs?: (context: OperationContext) => number;
}

export interface RunOptions {
  environment?: NodeJS.ProcessEnv;
  extensionRoot?: string;
  stderr?: (text: string) => void;
}

/**
 * `handler <operation>`: the whole protocol around one lifecycle command. Reads the handler
 * environment, resolves the sequence number, serialises runs with a lock, reports transitioning
 * and then the final status, logs with secrets redacted, and returns the exit code that agrees
 * with the status.
 */
export async function runHandler(argv: string[], config: RuntimeConfig, options: RunOptions = {}): Promise<number> {
  const stderr = options.stderr ?? ((text: string) => process.stderr.write(text));
  const environment = options.environment ?? process.env;
  const extensionRoot = options.extensionRoot ?? process.cwd();
  const operation = argv[0] as Operation;
  if (!OPERATIONS.includes(operation)) {
    stderr(`usage: handler <${OPERATIONS.join('|')}> (received ${describeValue(argv[0] ?? '')})\n`);
    return ExitCode.Failure;
  }

  let handlerEnvironment: HandlerEnvironment;
  try {
    handlerEnvironment = await readHandlerEnvironment(extensionRoot);
  } catch (error) {
    stderr(`${config.handlerName} ${operation}: ${escapeUnsafe((error as Error).message)}\n`);
    return isHandlerError(error) ? error.exitCode : ExitCode.MissingDependency;
  }

  const redactor = new Redactor();
  const logger = new Logger(handlerEnvironment.logFolder, redactor);
  const sequenceNumber = await resolveSequenceNumber(environment, handlerEnvironment.configFolder);
  const statusOperation = operation[0]!.toUpperCase() + operation.slice(1);
  logger.info(`${config.handlerName} ${config.version} ${operation} started on Node ${process.version}`, {
    sequenceNumber,
    environment: protocolEnvironment(environment),
  });

  // The settings file is read once, under the lock: the run applies, and its status answers, these bytes.
  let settingsBytes: Promise<Buffer | null> | undefined;
  const readSettings = () =>
    (settingsBytes ??=
      sequenceNumber === undefined ? Promise.resolve(null) : readSettingsBytes(handlerEnvironment.configFolder, sequenceNumber));
  const context: OperationContext = {
    operation,
    extensionRoot,
    handlerEnvironment,
    sequenceNumber,
    environment,
    logger,
    loadSettings: async (options) =>
      loadSettings(
        sequenceNumber,
        await readSettings(),
        config.settingsSchema,
        () => config.decryptor(extensionRoot, environment),
        redactor,
        options?.publicOnly ?? false,
      ),
  };
  const status = new StatusWriter(handlerEnvironment.statusFolder, config.handlerName, config.statusRecordFolder(context));

  let exitCode: number;
  let result: OperationResult;
  try {
    result = await withLock(
      config.lockPath(context),
      async () => {
        if (sequenceNumber !== undefined) {
          await status.transitioning(
            sequenceNumber,
            statusOperation,
            `${statusOperation} in progress.`,
            settingsDigest(await readSettings()),
          );
        }
        return config.handlers[operation](context);
      },
      { waitMs: config.lockWaitMs?.(context) },
    );
    exitCode = result.status === 'error' ? ExitCode.Failure : ExitCode.Success;
  } catch (error) {
    // By name: a failure raised in another bundle (the simulated Windows, a lazy module) is known too.
    const known = isHandlerError(error);
    exitCode = known ? error.exitCode : ExitCode.Failure;
    let message = known ? error.message : `Unexpected failure during ${operation}: ${(error as Error).message ?? String(error)}`;
    // Bad settings are rejected before anything is applied; say so, the owner's first worry.
    if (isConfigurationError(error)) message += ' These settings were not applied; the configuration in force before is unchanged.';
    result = { status: 'error', message: redactor.redact(message), substatus: known ? error.details : undefined };
    if (!known) logger.error((error as Error).stack ?? String(error));
    // The manager keeps a command's stderr in its own log, which is where an operator looks first.
    stderr(`${config.handlerName} ${operation} failed (exit code ${exitCode}): ${escapeUnsafe(result.message)}\n`);
  }

  if (sequenceNumber !== undefined) {
    await status.write(sequenceNumber, {
      operation: statusOperation,
      status: result.status,
      code: exitCode,
      message: redactor.redact(result.message),
      substatus: result.substatus?.map((item) => ({ ...item, message: redactor.redact(item.message) })),
    });
  }
  logger.info(`${operation} finished with exit code ${exitCode}: ${result.message}`);
  return exitCode;
}

/**
 * The variables through which the extension manager tells a handler about its run. None is secret;
 * they are logged and recorded so an operator can see what the manager asked for.
 */
export function protocolEnvironment(environment: NodeJS.ProcessEnv): Record<string, string> {
  const names = Object.keys(environment).filter(
    (name) => name === 'ConfigSequenceNumber' || name === 'VERSION' || name.startsWith('AZURE_GUEST_AGENT_'),
  );
  return Object.fromEntries(names.sort().map((name) => [name, environment[name] ?? '']));
}

async function loadSettings(
  sequenceNumber: number | undefined,
  bytes: Buffer | null,
  schema: SettingsSchema,
  decryptor: () => Promise<ProtectedSettingsDecryptor>,
  redactor: Redactor,
  publicOnly: boolean,
): Promise<LoadedSettings> {
  if (sequenceNumber === undefined) return { sequenceNumber: 0, empty: true, publicSettings: {} };
  const file = parseSettingsFile(sequenceNumber, bytes);
  // The ciphertext is not the secret itself, but nothing about protected settings belongs in logs.
  if (file.protectedSettings) redactor.add(file.protectedSettings);
  schema.check(file.publicSettings);
  const loaded: LoadedSettings = { sequenceNumber, empty: file.empty, publicSettings: file.publicSettings };
  if (file.protectedSettings === undefined || publicOnly) return loaded;

  const plaintext = await (await decryptor()).decrypt(file.protectedSettings, file.protectedSettingsCertThumbprint ?? '');
  redactor.add(plaintext);
  const decrypted = parseProtectedSettings(plaintext);
  redactor.add(decrypted);
  if (typeof decrypted !== 'object' || decrypted === null || Array.isArray(decrypted)) {
    throw new ConfigurationError(
      'protectedSettings',
      'decrypted data that is not a JSON object',
      'a JSON object encrypted to the certificate named by protectedSettingsCertThumbprint',
    );
  }
  return { ...loaded, protectedSettings: decrypted as Record<string, unknown> };
}

/**
 * The decrypted protected settings, read as strictly as the file: a key given twice is refused
 * (named, never its values: they are secret). Other faults give undefined, reported by the caller
 * without quoting the plaintext.
 */
function parseProtectedSettings(plaintext: string): unknown {
  try {
    return parseStrictJson(plaintext);
  } catch (error) {
    if (error instanceof StrictJsonError && error.problem === 'duplicate-key') {
      throw new ConfigurationError(
        `protectedSettings.${formatJsonPath(error.path)}`,
        'the same key twice in one object of the decrypted protected settings',
        'each key at most once in an object: readers differ on which of two values wins',
      );
    }
    return undefined;
  }
}
