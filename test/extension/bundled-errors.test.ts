/**
 * The bundled handler and agent report each typed failure exactly as the sources do. The handler
 * (bin/handler.js), its lazy modules, the agent and the simulated Windows are separate bundles,
 * each with its own copy of the error classes, so a failure raised in one and judged in another
 * must be recognised by its name, not by class identity: otherwise the owner reads
 * "Unexpected failure during ..." where the same code run from source gives the clean message.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { withLock } from '../../extension/lock';
import { bundleHandler } from '../../scripts/build/bundle';
import { writeMachine } from '../../sim/windows/default-machine';
import type { MachineModel } from '../../sim/windows/machine-model';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { makeTempDir } from '../support/cms';
import { ExtensionFixture, grantSettings, TEST_IDENTITY } from '../support/extension-fixture';

const REPO = path.resolve(__dirname, '..', '..');
const local = (machine: MachineModel) => machine.nodes[machine.localNode]!;

/** What the extension manager and the owner see of one run, with the run's own folder as <folder>. */
interface Seen {
  exitCode: number;
  stderr: string;
  status: unknown;
}

interface Case {
  operation: string;
  sequenceNumber: number;
  /** Changes the fresh default machine before the run. */
  machine?: (machine: MachineModel) => void;
  /** Prepares the extension folder, settings or data before the run; may return what undoes it after. */
  prepare?: (fixture: ExtensionFixture) => Promise<void | (() => Promise<void>)>;
  env?: Record<string, string>;
}

describe('errors across bundles', () => {
  let work: string;
  let bin: string;
  let simulator: string;
  const fixtures: ExtensionFixture[] = [];

  beforeAll(async () => {
    work = await makeTempDir('ars-bundled-errors');
    bin = path.join(work, 'bin');
    await bundleHandler({ identity: TEST_IDENTITY, outFile: path.join(bin, 'handler.js') });
    simulator = await simulatorBundle();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(fixtures.map((fixture) => fixture.remove()));
    await fs.rm(work, { recursive: true, force: true });
  });

  async function fixtureFor(testCase: Case): Promise<{ fixture: ExtensionFixture; after: () => Promise<void> }> {
    const fixture = await ExtensionFixture.create(testCase.machine);
    fixtures.push(fixture);
    const undo = await testCase.prepare?.(fixture);
    return { fixture, after: undo ?? (async () => undefined) };
  }

  async function seen(fixture: ExtensionFixture, testCase: Case, run: { exitCode: number; stderr: string }): Promise<Seen> {
    const { timestampUTC: _, ...document } = await fixture.status(testCase.sequenceNumber);
    const hide = (text: string) => text.split(fixture.base).join('<folder>');
    return { exitCode: run.exitCode, stderr: hide(run.stderr), status: JSON.parse(hide(JSON.stringify(document.status))) };
  }

  /** The same case on two fresh machines: in this process from source, and as `node handler.js` with the bundled simulator. */
  async function fromSourceAndBundle(testCase: Case): Promise<{ source: Seen; bundled: Seen }> {
    const { fixture: inProcess, after: afterSource } = await fixtureFor(testCase);
    const sourceRun = await inProcess.run(testCase.operation, { sequenceNumber: testCase.sequenceNumber, env: testCase.env });
    await afterSource();
    const source = await seen(inProcess, testCase, sourceRun);

    const { fixture: child, after: afterBundled } = await fixtureFor(testCase);
    // Only the variables the in-process run gets, so the two runs differ by nothing but the bundling.
    const run = await execa(process.execPath, [path.join(bin, 'handler.js'), testCase.operation], {
      cwd: child.root,
      reject: false,
      stripFinalNewline: false,
      extendEnv: false,
      env: {
        ARC_REMOTE_SUPPORT_DATA: child.dataFolder,
        ...simulatorEnvironment(child.machinePath, { simulator }),
        ARC_REMOTE_SUPPORT_CERT_DIR: child.base,
        ConfigSequenceNumber: String(testCase.sequenceNumber),
        ...testCase.env,
      },
    });
    await afterBundled();
    const bundled = await seen(child, testCase, { exitCode: run.exitCode, stderr: run.stderr });
    return { source, bundled };
  }

  it('bad settings: exit 53, naming the field and saying nothing was applied', async () => {
    const { source, bundled } = await fromSourceAndBundle({
      operation: 'enable',
      sequenceNumber: 1,
      prepare: (fixture) => fixture.writeSettings(1, { publicSettings: grantSettings(new Date(), { level: 'Root' }) }),
    });
    expect(bundled).toEqual(source);
    expect(source).toMatchObject({ exitCode: 53, status: { status: 'error', code: 53 } });
    expect(source.status).toMatchObject({
      formattedMessage: { message: expect.stringMatching(/^Invalid setting '[^']*level'.*These settings were not applied/) },
    });
  });

  it.each([
    [
      '2 GB of memory',
      (machine: MachineModel) => (local(machine).memory.moduleBytes = [2 * 1024 ** 3]),
      'Memory check failed: found 2.00 GiB installed',
    ],
    [
      'a workstation product type',
      (machine: MachineModel) => Object.assign(local(machine).os, { caption: 'Microsoft Windows 10 Enterprise', productType: 1 }),
      'product type 1 (workstation)',
    ],
  ])('a failed prerequisite (%s): exit 51 with one substatus per check', async (_name, machine, found) => {
    const { source, bundled } = await fromSourceAndBundle({ operation: 'install', sequenceNumber: 0, machine });
    expect(bundled).toEqual(source);
    expect(source).toMatchObject({
      exitCode: 51,
      status: { status: 'error', code: 51, formattedMessage: { message: expect.stringContaining(found) } },
    });
    expect((source.status as { substatus: unknown[] }).substatus).toHaveLength(4);
  });

  it.each([
    [
      'no usable simulator module',
      { ARC_REMOTE_SUPPORT_SIMULATOR: 'simulator.js' },
      'set ARC_REMOTE_SUPPORT_SIMULATOR to the absolute path of the simulator module',
    ],
    [
      'a lock wait that is not a number',
      { ARC_REMOTE_SUPPORT_LOCK_WAIT_MS: '5s' },
      'ARC_REMOTE_SUPPORT_LOCK_WAIT_MS is "5s"; accepted: a whole number of milliseconds from 1 to 120000',
    ],
  ])('a missing dependency (%s): exit 52 naming the variable', async (_name, env, named) => {
    const { source, bundled } = await fromSourceAndBundle({ operation: 'install', sequenceNumber: 0, env });
    expect(bundled).toEqual(source);
    expect(source).toMatchObject({
      exitCode: 52,
      status: { status: 'error', code: 52, formattedMessage: { message: expect.stringContaining(named) } },
    });
  });

  it('a Windows host failure raised inside the simulator: exit 1 naming the phase, not an unexpected failure', async () => {
    const { source, bundled } = await fromSourceAndBundle({
      operation: 'install',
      sequenceNumber: 0,
      // The simulated host fails the whole batch (HostBatchError) on a model it cannot read.
      prepare: (fixture) => fs.writeFile(fixture.machinePath, '{ not a machine'),
    });
    expect(bundled).toEqual(source);
    expect(source).toMatchObject({ exitCode: 1, status: { status: 'error', code: 1 } });
    expect((source.status as { formattedMessage: { message: string } }).formattedMessage.message).toMatch(
      /^Windows host phase 'clock' failed: the simulated machine <folder>\/machine\.json could not be used: /,
    );
  });

  it('the handler lock held by another run: exit 1 naming the lock and the wait', async () => {
    const { source, bundled } = await fromSourceAndBundle({
      operation: 'install',
      sequenceNumber: 0,
      // This process holds the lock (and keeps it fresh) as a handler run still working would.
      prepare: async (fixture) => {
        let release!: () => void;
        const holding = new Promise<void>((resolve) => (release = resolve));
        let held!: () => void;
        const taken = new Promise<void>((resolve) => (held = resolve));
        const holder = withLock(`${fixture.dataFolder}.lock`, () => {
          held();
          return holding;
        });
        await taken;
        return async () => {
          release();
          await holder;
        };
      },
      env: { ARC_REMOTE_SUPPORT_LOCK_WAIT_MS: '1000' },
    });
    expect(bundled).toEqual(source);
    expect(source).toMatchObject({
      exitCode: 1,
      status: {
        status: 'error',
        code: 1,
        formattedMessage: {
          message: expect.stringMatching(/^Another run of this extension's handler still holds <folder>\/data\.lock after 1 s/),
        },
      },
    });
  });

  describe('the agent against a failing host', () => {
    async function agentRuns(prepare: (fixture: ExtensionFixture) => Promise<void>) {
      const fixture = await ExtensionFixture.create();
      fixtures.push(fixture);
      await prepare(fixture);
      const hide = (text: string) => text.split(fixture.base).join('<folder>');
      // From source: the agent's own entry through tsx, with the simulator's source.
      const source = await execa(process.execPath, ['--require', 'tsx/cjs', path.join(REPO, 'agent', 'main.ts'), 'reconcile'], {
        cwd: REPO,
        reject: false,
        extendEnv: false,
        env: simulatorEnvironment(fixture.machinePath),
      });
      const bundled = await execa(process.execPath, [path.join(bin, 'agent.js'), 'reconcile'], {
        reject: false,
        extendEnv: false,
        env: simulatorEnvironment(fixture.machinePath, { simulator }),
      });
      return [source, bundled].map((run) => ({ exitCode: run.exitCode, stdout: hide(run.stdout), stderr: hide(run.stderr) }));
    }

    it('an operation that fails on the node: the same message, exit 1', async () => {
      const [source, bundled] = await agentRuns(async (fixture) => {
        expect((await fixture.run('install', { sequenceNumber: 0 })).exitCode).toBe(0);
        const machine = await fixture.machine();
        for (const key of Object.keys(local(machine).tasks)) if (key.endsWith('reconcile')) delete local(machine).tasks[key];
        machine.faults = [{ operation: 'registerTask', action: 'fail', code: 'AccessDenied', message: 'Access is denied', remaining: 2 }];
        await writeMachine(fixture.machinePath, machine);
      });
      expect(bundled).toEqual(source);
      expect(source).toMatchObject({
        exitCode: 1,
        stdout: '',
        stderr: expect.stringMatching(/^reconcile: failed at '.*Reconcile.*': AccessDenied: Access is denied\n?$/),
      });
    });

    it('a model it cannot read: the same message, exit 1', async () => {
      const [source, bundled] = await agentRuns((fixture) => fs.writeFile(fixture.machinePath, '{ not a machine'));
      expect(bundled).toEqual(source);
      expect(source).toMatchObject({
        exitCode: 1,
        stdout: '',
        stderr: expect.stringMatching(
          /^agent failed: Windows host phase 'clock' failed: the simulated machine <folder>\/machine\.json could not be used: /,
        ),
      });
    });
  });
});
