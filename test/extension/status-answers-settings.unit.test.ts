/**
 * A status answers the settings it was written for. The manager may rewrite `<N>.settings` with new
 * content under the same N: while that content is applied (and if the run dies half way) the status
 * of N must say transitioning, never the previous success. Enable run again with the same content
 * (after a reboot) keeps its finished status.
 */
import { promises as fs } from 'fs';
import path from 'path';
import { runHandler, type OperationHandler, type OperationResult, type RuntimeConfig } from '../../extension/dispatcher';
import { SettingsSchema } from '../../extension/settings-schema';
import settingsSchema from '../../manifests/settings.schema.json';
import validateSettings from '../../manifests/settings.validator';
import { layOutExtensionFolder, writeHandlerSettings } from '../../sim/arm/extension-folder';
import { makeTempDir } from '../support/cms';

interface Seen {
  /** The status of N on disk when the handler started its work. */
  statusAtStart: string | undefined;
  /** The public settings it applied. */
  applied: string;
}

describe('a status answers the settings it was written for', () => {
  let base: string;
  let root: string;
  let seen: Seen[];
  /** What enable does after reading the settings; a test may make it fail like a killed run. */
  let afterLoad: () => Promise<void>;

  beforeEach(async () => {
    base = await makeTempDir('ars-answers');
    root = path.join(base, 'ext');
    await layOutExtensionFolder(root, 'Pub.Type');
    seen = [];
    afterLoad = async () => undefined;
  });
  afterEach(() => fs.rm(base, { recursive: true, force: true }));

  const statusOf = async (sequence: number) => {
    try {
      return JSON.parse(await fs.readFile(path.join(root, 'status', `${sequence}.status`), 'utf8'))[0].status;
    } catch {
      return undefined;
    }
  };

  const enable: OperationHandler = async (context) => {
    const statusAtStart = (await statusOf(context.sequenceNumber!))?.status;
    const settings = await context.loadSettings();
    const applied = JSON.stringify(settings.publicSettings);
    seen.push({ statusAtStart, applied });
    await afterLoad();
    return { status: 'success', message: `Applied ${applied}.` } satisfies OperationResult;
  };

  const config = (): RuntimeConfig => {
    const unused: OperationHandler = async () => ({ status: 'success', message: 'nothing to do' });
    return {
      handlerName: 'Pub.Type',
      version: '1.0.0',
      handlers: { install: unused, enable, update: unused, disable: unused, uninstall: unused },
      settingsSchema: new SettingsSchema(validateSettings, settingsSchema),
      decryptor: async () => {
        throw new Error('no protected settings in these tests');
      },
      lockPath: () => path.join(base, 'data.lock'),
      statusRecordFolder: () => path.join(base, 'data', 'status-settings'),
    };
  };

  const run = (sequence: number) =>
    runHandler(['enable'], config(), {
      environment: { ConfigSequenceNumber: String(sequence) },
      extensionRoot: root,
      stderr: () => undefined,
    });
  const settings = (retentionDays: number) =>
    writeHandlerSettings(root, 1, { publicSettings: { schemaVersion: 1, access: { level: 'None' }, retentionDays } });
  const applied = (retentionDays: number) => JSON.stringify({ schemaVersion: 1, access: { level: 'None' }, retentionDays });

  it('keeps the finished status when the same content is applied again (a reboot)', async () => {
    await settings(30);
    expect(await run(1)).toBe(0);
    expect(await run(1)).toBe(0);
    expect(seen.map((item) => item.statusAtStart)).toEqual(['transitioning', 'success']);
  });

  it('leaves the status file and its record as they are when a run with the same content finds the same result', async () => {
    await settings(30);
    expect(await run(1)).toBe(0);
    const status = path.join(root, 'status', '1.status');
    const record = path.join(base, 'data', 'status-settings', '1.json');
    const [statusBefore, recordBefore] = [await fs.stat(status), await fs.stat(record)];
    expect(await run(1)).toBe(0);
    expect((await fs.stat(status)).ino).toBe(statusBefore.ino);
    expect((await fs.stat(record)).ino).toBe(recordBefore.ino);

    // The same content with another result (the node changed under it): the status says so.
    afterLoad = async () => {
      throw new Error('the host went away');
    };
    expect(await run(1)).toBe(1);
    expect((await fs.stat(status)).ino).not.toBe(statusBefore.ino);
    expect(await statusOf(1)).toMatchObject({ status: 'error' });
  });

  it('reports transitioning before applying new content under the same sequence number', async () => {
    await settings(30);
    expect(await run(1)).toBe(0);
    expect(await statusOf(1)).toMatchObject({ status: 'success', formattedMessage: { message: `Applied ${applied(30)}.` } });

    // Same N, other content: the old success is gone before the new content is read and applied.
    await settings(7);
    expect(await run(1)).toBe(0);
    expect(seen[1]).toEqual({ statusAtStart: 'transitioning', applied: applied(7) });
    expect(await statusOf(1)).toMatchObject({ status: 'success', formattedMessage: { message: `Applied ${applied(7)}.` } });
  });

  it('leaves no stale success for new content when the run fails half way, and reports the new result after', async () => {
    await settings(30);
    await run(1);
    await settings(7);
    let statusWhileApplying: unknown;
    afterLoad = async () => {
      // What the manager would read if the handler were killed here.
      statusWhileApplying = (await statusOf(1))?.status;
      throw new Error('the host went away');
    };
    expect(await run(1)).toBe(1);
    expect(statusWhileApplying).toBe('transitioning');
    expect((await statusOf(1)).status).toBe('error');
    // The next run with that content keeps the error (it answers this content) until its own result.
    afterLoad = async () => undefined;
    expect(await run(1)).toBe(0);
    expect(seen.map((item) => item.statusAtStart)).toEqual(['transitioning', 'transitioning', 'error']);
    expect(await statusOf(1)).toMatchObject({ status: 'success', formattedMessage: { message: `Applied ${applied(7)}.` } });
  });

  it('answers the bytes it read: content rewritten during a run is applied by the next run, not claimed by this one', async () => {
    await settings(30);
    afterLoad = async () => {
      afterLoad = async () => undefined;
      await settings(7);
    };
    await run(1);
    expect(await statusOf(1)).toMatchObject({ status: 'success', formattedMessage: { message: `Applied ${applied(30)}.` } });
    expect(await run(1)).toBe(0);
    expect(seen).toEqual([
      { statusAtStart: 'transitioning', applied: applied(30) },
      { statusAtStart: 'transitioning', applied: applied(7) },
    ]);
  });
});
