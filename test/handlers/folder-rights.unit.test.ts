/**
 * The node's data folder holds the desired-state record, the session configuration and the
 * handler's compile cache: only SYSTEM and Administrators may write there. A folder someone made
 * before install (with the volume's default rights, which let users read and more) gets those
 * rights at install, not only a folder install creates.
 */
import { DATA_FOLDER, TRANSCRIPT_FOLDER } from '../../core/node-layout';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { op } from '../../windows/operations';
import { DEFAULT_VOLUME_SDDL } from '../../sim/windows/file-system';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { ExtensionFixture } from '../support/extension-fixture';

const START = new Date('2026-11-24T20:00:00Z');

describe('the data folders at install', () => {
  let fixture: ExtensionFixture;
  beforeEach(async () => {
    fixture = await ExtensionFixture.create();
  });
  afterEach(() => fixture.remove());

  const rightsOf = async (folder: string) => {
    const [outcome] = await new SimulatedHost(fixture.machinePath).execute([op('getPath', { path: folder })], { phase: 'check' });
    return outcome?.ok ? (outcome.value as { sddl: string | null }).sddl : undefined;
  };

  it('get SYSTEM-and-Administrators-only rights even when someone made them first', async () => {
    await new SimulatedHost(fixture.machinePath).execute(
      [
        op('ensureDirectory', { path: TRANSCRIPT_FOLDER, sddl: DEFAULT_VOLUME_SDDL }),
        op('ensureDirectory', { path: DATA_FOLDER, sddl: DEFAULT_VOLUME_SDDL }),
      ],
      { phase: 'someone else' },
    );
    expect(await rightsOf(DATA_FOLDER)).toBe(DEFAULT_VOLUME_SDDL);

    expect((await fixture.run('install', { now: START })).exitCode).toBe(0);
    expect(await rightsOf(DATA_FOLDER)).toBe(SYSTEM_AND_ADMINISTRATORS_ONLY);
    expect(await rightsOf(TRANSCRIPT_FOLDER)).toBe(SYSTEM_AND_ADMINISTRATORS_ONLY);
  });
});
