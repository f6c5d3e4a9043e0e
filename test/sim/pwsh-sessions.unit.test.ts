/**
 * How the simulated node picks its session launcher: simulated unless the test-only
 * ARC_REMOTE_SUPPORT_SIM_SESSIONS names a pwsh configuration, which must be whole (each field an
 * absolute path) or the node does not start, naming the variable, the field and the value.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { PwshSessionLauncher, SIM_SESSIONS_VARIABLE } from '../../sim/windows/pwsh-sessions';
import { SimulatedSessionLauncher } from '../../sim/windows/simulated-session';
import { simulatedNode } from '../../sim/windows/simulator';

describe('the simulated node’s session launcher', () => {
  let work: string;
  const context = (value?: string) => ({
    environment: value === undefined ? {} : { [SIM_SESSIONS_VARIABLE]: value },
    extensionRoot: '/opt/extension',
  });
  const config = { pwsh: '/opt/pwsh/pwsh', entryScript: '/repo/entry.ps1', jeaStandIns: '/tmp/standins.json', drives: '/tmp/drives' };

  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(tmpdir(), 'ars-pwsh-sessions-'));
  });
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  async function configFile(name: string, content: unknown): Promise<string> {
    const file = path.join(work, name);
    await fs.writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  it('is simulated without the variable, or when it is empty, and when no context is given', () => {
    expect(simulatedNode('/tmp/machine.json', 'FS-01', context()).sessions).toBeInstanceOf(SimulatedSessionLauncher);
    expect(simulatedNode('/tmp/machine.json', 'FS-01', context('')).sessions).toBeInstanceOf(SimulatedSessionLauncher);
    expect(simulatedNode('/tmp/machine.json').sessions).toBeInstanceOf(SimulatedSessionLauncher);
  });

  it('runs the package’s session script in pwsh with pwsh:<config file>', async () => {
    const file = await configFile('good.json', config);
    expect(simulatedNode('/tmp/machine.json', 'FS-01', context(`pwsh:${file}`)).sessions).toBeInstanceOf(PwshSessionLauncher);
  });

  it('refuses another value, a missing or broken file, and a field that is not an absolute path, naming each', async () => {
    expect(() => simulatedNode('/tmp/machine.json', 'FS-01', context('pwsh'))).toThrow(
      `${SIM_SESSIONS_VARIABLE} is "pwsh"; the accepted value is pwsh:<absolute path of a JSON file with pwsh, entryScript, jeaStandIns, drives>, or unset for simulated sessions.`,
    );
    expect(() => simulatedNode('/tmp/machine.json', 'FS-01', context('pwsh:relative.json'))).toThrow(
      /is "pwsh:relative.json"; the accepted/,
    );
    const missing = path.join(work, 'missing.json');
    expect(() => simulatedNode('/tmp/machine.json', 'FS-01', context(`pwsh:${missing}`))).toThrow(
      new RegExp(`${SIM_SESSIONS_VARIABLE} names ${missing}, which is not a readable JSON file`),
    );
    const broken = await configFile('broken.json', '{"pwsh":');
    expect(() => simulatedNode('/tmp/machine.json', 'FS-01', context(`pwsh:${broken}`))).toThrow(/which is not a readable JSON file/);
    const relative = await configFile('relative.json', { ...config, drives: 'drives' });
    expect(() => simulatedNode('/tmp/machine.json', 'FS-01', context(`pwsh:${relative}`))).toThrow(
      `${relative} (${SIM_SESSIONS_VARIABLE}): 'drives' is "drives"; give an absolute path.`,
    );
    const without = await configFile('without.json', { ...config, jeaStandIns: undefined });
    expect(() => simulatedNode('/tmp/machine.json', 'FS-01', context(`pwsh:${without}`))).toThrow(
      `'jeaStandIns' is null; give an absolute path.`,
    );
  });
});
