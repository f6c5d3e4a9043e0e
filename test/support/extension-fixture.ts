/**
 * A throwaway extension folder laid out as an extension manager lays it out (HandlerEnvironment.json,
 * config, status and log folders) plus a data folder, for running the handler in-process.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { runHandler } from '../../extension/dispatcher';
import { createRuntimeConfig } from '../../handlers/runtime-config';
import { layOutExtensionFolder, writeHandlerSettings } from '../../sim/arm/extension-folder';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import type { MachineModel } from '../../sim/windows/machine-model';
import { simulatorEnvironment } from '../../sim/windows/simulator-bundle';

export const TEST_IDENTITY = { publisher: 'ArcRemoteSupport', type: 'WindowsRemoteSupport', version: '1.0.0' };

export interface StatusFile {
  version: string;
  timestampUTC: string;
  status: {
    name: string;
    operation: string;
    status: string;
    code: number;
    formattedMessage: { lang: string; message: string };
    substatus: Array<{ name: string; status: string; code: number; formattedMessage: { message: string } }>;
  };
}

export interface RunOptions {
  sequenceNumber?: number;
  now?: Date;
  certDir?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunResult {
  exitCode: number;
  stderr: string;
}

export class ExtensionFixture {
  private constructor(
    readonly base: string,
    readonly root: string,
    readonly dataFolder: string,
  ) {}

  /** A handler folder beside a simulated machine (the default two-node cluster unless changed). */
  static async create(change?: (machine: MachineModel) => void): Promise<ExtensionFixture> {
    const base = await fs.mkdtemp(path.join(tmpdir(), 'ars-ext-'));
    const root = path.join(base, 'ArcRemoteSupport.WindowsRemoteSupport-1.0.0');
    const fixture = new ExtensionFixture(base, root, path.join(base, 'data'));
    await layOutExtensionFolder(root, 'ArcRemoteSupport.WindowsRemoteSupport');
    const machine = createDefaultMachine();
    change?.(machine);
    await writeMachine(fixture.machinePath, machine);
    return fixture;
  }

  get machinePath(): string {
    return path.join(this.base, 'machine.json');
  }

  machine(): Promise<MachineModel> {
    return readMachine(this.machinePath);
  }

  get configFolder(): string {
    return path.join(this.root, 'config');
  }

  async writeSettingsText(sequenceNumber: number, text: string | Buffer): Promise<void> {
    await fs.writeFile(path.join(this.configFolder, `${sequenceNumber}.settings`), text);
  }

  writeSettings(sequenceNumber: number, handlerSettings: Record<string, unknown>): Promise<void> {
    return writeHandlerSettings(this.root, sequenceNumber, handlerSettings);
  }

  run(operation: string, options: RunOptions = {}): Promise<RunResult> {
    return this.runAs(TEST_IDENTITY.version, operation, options);
  }

  /** Runs the handler as another version of the package would, sharing the same machine data. */
  async runAs(version: string, operation: string, options: RunOptions = {}): Promise<RunResult> {
    let stderr = '';
    const environment: NodeJS.ProcessEnv = {
      ARC_REMOTE_SUPPORT_DATA: this.dataFolder,
      ...simulatorEnvironment(this.machinePath),
      ARC_REMOTE_SUPPORT_CERT_DIR: options.certDir ?? this.base,
      ...(options.sequenceNumber === undefined ? {} : { ConfigSequenceNumber: String(options.sequenceNumber) }),
      ...options.env,
    };
    const now = options.now;
    const exitCode = await runHandler(
      [operation],
      createRuntimeConfig({ ...TEST_IDENTITY, version }, { now: now ? () => now : undefined }),
      {
        environment,
        extensionRoot: this.root,
        stderr: (text) => {
          stderr += text;
        },
      },
    );
    return { exitCode, stderr };
  }

  async status(sequenceNumber: number): Promise<StatusFile> {
    const text = await fs.readFile(path.join(this.root, 'status', `${sequenceNumber}.status`), 'utf8');
    const document = JSON.parse(text) as StatusFile[];
    if (!Array.isArray(document) || !document[0]) throw new Error(`status ${sequenceNumber} is not an array`);
    return document[0];
  }

  async stateText(): Promise<string | undefined> {
    return fs.readFile(path.join(this.dataFolder, 'state.json'), 'utf8').catch(() => undefined);
  }

  async state(): Promise<any> {
    const text = await this.stateText();
    return text === undefined ? undefined : JSON.parse(text);
  }

  async logText(): Promise<string> {
    const folder = path.join(this.root, 'log');
    const names = await fs.readdir(folder);
    const texts = await Promise.all(names.map((name) => fs.readFile(path.join(folder, name), 'utf8')));
    return texts.join('');
  }

  async remove(): Promise<void> {
    await fs.rm(this.base, { recursive: true, force: true });
  }
}

/** Public settings for a valid grant, relative to `now`. */
export function grantSettings(now: Date, overrides: Record<string, unknown> = {}, hours = 8): Record<string, unknown> {
  const acceptedAt = new Date(now.getTime() - 60_000);
  return {
    schemaVersion: 1,
    access: {
      level: 'Diagnostics',
      grantId: '3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f',
      expiresAt: iso(new Date(acceptedAt.getTime() + hours * 3_600_000)),
      supportRequestId: 'TKT-2611240001',
      consent: { termsVersion: '2026.1', acceptedAt: iso(acceptedAt), acceptedBy: 'owner@contoso.example' },
      ...overrides,
    },
    retentionDays: 30,
  };
}

export function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
