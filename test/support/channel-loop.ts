/**
 * The whole channel loop, shared by its variants (test/cli/channel-loop.test.ts: the node's
 * sessions simulated; test/cli/channel-loop-pwsh.test.ts: the package's ChannelSession.ps1 in the
 * real pwsh). Every other part is the real one: the owner's CLI grants through the real SDK to the
 * ARM emulator (oav-validated), whose machines run the real handler package on a simulated two-node
 * Windows failover cluster; the node's Channel task runs the installed agent, which listens at the
 * test relay (the relay namespace's data plane); the engineer's `connect` is the CLI bundle run as a
 * child process with only the access ticket file; commands run in the node's JEA session, a repair
 * command is refused at Diagnostics; the owner's `revoke` ends the session within 5 s; `status` and
 * the node's session history show what happened.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { buildPackage } from '../../scripts/build/package';
import { bundleCli } from '../../scripts/build/bundle-cli';
import { handlerPackageRunner, type HandlerPackageRunner } from '../../sim/arm/handler-package-runner';
import { startChannelTask, waitFor, type ChannelProcess } from '../../sim/relay/channel-rig';
import { startTestRelay, type TestRelay } from '../../sim/relay';
import { readMachine } from '../../sim/windows/default-machine';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNodePath } from '../../sim/shipped-node-path';
import { AGENT_SCRIPT } from '../../core/node-layout';
import { EXTENSION_IDENTITY, openSupportTickets, startEmulatedCli, SUBSCRIPTION, type CliRun, type EmulatedCli } from './cli-harness';

/** What differs between the loop's variants: how the node runs the engineer's session, and what it shows. */
export interface ChannelLoopVariant {
  /** The describe's title. */
  title: string;
  /** Prepares what the node's sessions need in `work` (before the agent starts); returns variables for the node's Channel agent. */
  prepare?(work: string): Promise<Record<string, string>>;
  /** A line of `Get-Service -Name WinRM`'s output as the engineer sees it. */
  serviceLine: RegExp;
  /** What connect prints (stderr) when Restart-Service is refused at Diagnostics. */
  refusal: RegExp;
  /** A last test: what only this variant's sessions leave behind. */
  proof?: { title: string; check(loop: { work: string; modelPath: string; grantId: string }): Promise<void> };
}

const RG = 'rg-cluster';
const RELAY_RG = 'rg-relay';
const NS = 'contoso-support-relay';
const TICKET = 'TKT-2611240002';
const ENGINEER = 'alex@support.example';
const seed = ['--machine', 'FS-01', '--resource-group', RG];

/** The loop's parts, up and connected: the emulator with the relay namespace attached, the package, the CLI bundle. */
export interface ChannelLoopRig {
  work: string;
  cli: EmulatedCli;
  relay: TestRelay;
  runner: HandlerPackageRunner;
  /** The owner's folder (ARC_REMOTE_SUPPORT_HOME): keys and tickets. */
  home: string;
  /** Variables the variant gives the node's Channel agent. */
  agentEnvironment: Record<string, string>;
  /** The owner's CLI, in-process against the emulator. */
  owner(argv: string[]): Promise<CliRun>;
  /** The engineer's `connect`: the CLI bundle as a child process, with only the ticket file and the relay's CA. */
  connect(argv: string[]): execa.ExecaChildProcess;
  close(): Promise<void>;
}

/** Names the loop uses: the cluster's resource group, the relay namespace, the support request, the engineer. */
export const CHANNEL_LOOP = { RG, RELAY_RG, NS, TICKET, ENGINEER, seed } as const;

/** Starts the loop's parts; `prepare` (the variant's own setup) runs beside the package build. */
export async function startChannelLoopRig(prepare?: (work: string) => Promise<Record<string, string>>): Promise<ChannelLoopRig> {
  const work = await fs.mkdtemp(path.join(tmpdir(), 'ars-channel-loop-'));
  const prepared = Promise.resolve(prepare?.(work) ?? {});
  prepared.catch(() => undefined);
  const built = await buildPackage({ version: '1.0.0', outDir: path.join(work, 'dist'), log: () => undefined });
  await execa('unzip', ['-q', built.zipPath, '-d', path.join(work, 'package')]);
  const runner = handlerPackageRunner({
    packages: { '1.0.0': path.join(work, 'package') },
    workDir: path.join(work, 'machines'),
    clusters: [['FS-01', 'FS-02']],
  });
  const relay = await startTestRelay({ rendezvousTimeoutMs: 5000 });
  const cli = await startEmulatedCli({
    supportTickets: openSupportTickets(TICKET),
    operationMs: 5,
    machines: ['FS-01', 'FS-02'].map((name) => ({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name })),
    relayNamespaces: [{ subscriptionId: SUBSCRIPTION, resourceGroup: RELAY_RG, name: NS }],
    runExtension: (run) => runner.runExtension(run),
  });
  cli.emulator.attachRelay(NS, relay);
  const home = path.join(cli.folder, 'owner-home');
  const bin = (await bundleCli({ identity: EXTENSION_IDENTITY, outFile: path.join(work, 'cli', 'arc-remote-support.js') })).outFile;
  const agentEnvironment = await prepared;
  return {
    work,
    cli,
    relay,
    runner,
    home,
    agentEnvironment,
    owner: (argv) => cli.run(argv, { env: { AZURE_SUBSCRIPTION_ID: SUBSCRIPTION, ARC_REMOTE_SUPPORT_HOME: home } }),
    connect: (argv) =>
      execa(process.execPath, [bin, 'connect', ...argv], {
        cwd: work,
        env: { PATH: process.env.PATH ?? '', HOME: work, NODE_EXTRA_CA_CERTS: relay.caFile },
        extendEnv: false,
        reject: false,
        timeout: 60_000,
      }),
    async close() {
      await cli.close();
      await relay.close();
      await fs.rm(work, { recursive: true, force: true });
    },
  };
}

export function describeChannelLoop(variant: ChannelLoopVariant): void {
  describe(variant.title, () => {
    let rig: ChannelLoopRig;
    let work: string;
    let relay: TestRelay;
    let runner: HandlerPackageRunner;
    const agents: ChannelProcess[] = [];

    beforeAll(async () => {
      rig = await startChannelLoopRig(variant.prepare);
      ({ work, relay, runner } = rig);
    }, 240_000);

    afterAll(async () => {
      for (const agent of agents) agent.kill();
      await rig?.close();
    });

    /** The owner's CLI: the owner's folder in the test's, no secret printed. */
    async function owner(argv: string[]): Promise<CliRun> {
      const result = await rig.owner(argv);
      expectNoSecret(`${result.stdout}\n${result.stderr}`);
      return result;
    }

    function expectNoSecret(text: string): void {
      expect(text).not.toMatch(/SharedAccessSignature|sig=|PRIVATE KEY/);
      expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
    }

    const connect = (argv: string[]) => rig.connect(argv);

    let grantId: string;
    let modelPath: string;
    let agent: ChannelProcess;
    /** The session id each connect printed, in order. */
    const sessionIds: string[] = [];
    const sessionOf = (stderr: string) => {
      const id = /\(session ([0-9a-f-]{36})\)/.exec(stderr)?.[1];
      expect(id).toBeDefined();
      sessionIds.push(id!);
    };
    const hybridConnection = () => `rs-fs-01-${grantId.replace(/-/g, '').slice(0, 8)}-fs-01`;

    /** A fresh access ticket for the engineer: each one opens one session. */
    async function ticketFile(name: string): Promise<string> {
      const file = path.join(work, `${name}.json`);
      const issued = await owner(['ticket', ...seed, '--grant', grantId, '--ticket-file', file, '--engineer', ENGINEER]);
      expect(issued.code).toBe(0);
      return file;
    }

    it("grants the cluster with a channel; the node's Channel task listens at the relay", async () => {
      // The cluster's other node is found from the Node lines of the first node's handler.
      expect((await owner(['deploy', ...seed])).code).toBe(0);
      expect((await owner(['deploy', ...seed, '--cluster'])).code).toBe(0);
      const granted = await owner([
        'grant',
        ...seed,
        '--cluster',
        '--level',
        'Diagnostics',
        '--duration',
        '8h',
        '--support-request',
        TICKET,
        '--accept-terms',
        '--relay-namespace',
        NS,
        '--engineer',
        ENGINEER,
        '--output',
        'json',
      ]);
      expect(granted.code).toBe(0);
      const report = JSON.parse(granted.stdout);
      grantId = report.grant.grantId;
      expect(
        report.results.map((row: { result: string; detail: string }) => [row.result, /channel: 2 hybrid connection\(s\)/.test(row.detail)]),
      ).toEqual([
        ['ok', true],
        ['ok', true],
      ]);

      // The handler registered the Channel task on each node; Task Scheduler starts FS-01's.
      modelPath = runner.windowsOf({ subscriptionId: SUBSCRIPTION, resourceGroup: RG, name: 'FS-01' }).modelPath;
      const model = await readMachine(modelPath);
      for (const node of ['FS-01', 'FS-02']) expect(Object.keys(model.nodes[node]!.tasks)).toContain('\\arcremotesupport\\channel');
      agent = await startChannelTask(modelPath, 'FS-01', relay, undefined, rig.agentEnvironment);
      agents.push(agent);
      await waitFor(
        () => relay.counters.openListeners(hybridConnection()) === 1,
        15_000,
        () => agent.output(),
      );

      const status = await owner(['status', ...seed, '--cluster', '--relay-namespace', NS, '--output', 'json']);
      expect(status.code).toBe(0);
      const fs01 = JSON.parse(status.stdout).machines[0];
      expect(fs01).toMatchObject({
        level: 'Diagnostics',
        grantId,
        channel: `${NS}: ${hybridConnection()}, rs-fs-01-${grantId.replace(/-/g, '').slice(0, 8)}-fs-02`,
      });
      // The handler wrote its status before the agent started: the channel's state comes with its next run.
      expect(fs01.nodes[0]).toMatchObject({
        node: 'FS-01',
        message: expect.stringMatching(new RegExp(`^access Diagnostics until ${report.grant.expiresAt}; channel not reported yet`)),
      });
    });

    it('connect runs a diagnostic command in the JEA session and is refused a repair command at Diagnostics', async () => {
      const listed = await connect(['--ticket', await ticketFile('ticket-1'), '--node', 'FS-01', '--command', 'Get-Service -Name WinRM']);
      expectNoSecret(`${listed.stdout}\n${listed.stderr}`);
      expect(listed.exitCode).toBe(0);
      expect(listed.stderr).toMatch(/^Connected to FS-01 node FS-01 at level Diagnostics until /);
      sessionOf(listed.stderr);
      // Get-Service's table, line by line, as the JEA session formatted it.
      expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining([expect.stringMatching(variant.serviceLine)]));

      const repair = await connect([
        '--ticket',
        await ticketFile('ticket-2'),
        '--node',
        'FS-01',
        '--command',
        'Restart-Service -Name Spooler',
      ]);
      expectNoSecret(`${repair.stdout}\n${repair.stderr}`);
      expect(repair.exitCode).toBe(1);
      expect(repair.stdout).toBe('');
      sessionOf(repair.stderr);
      expect(repair.stderr).toMatch(variant.refusal);
    });

    it("revoke ends the engineer's open session within 5 s; connect says so and exits 6; the node's agent stops", async () => {
      const session = connect(['--ticket', await ticketFile('ticket-3'), '--node', 'FS-01']);
      let screen = '';
      session.stdout!.on('data', (chunk: Buffer) => (screen += chunk.toString()));
      const prompt = '[FS-01 FS-01 Diagnostics]> ';
      await waitFor(
        () => screen === prompt,
        15_000,
        () => screen,
      );
      session.stdin!.write('Get-Service -Name WinRM\n');
      await waitFor(
        () => screen.endsWith(`\n${prompt}`),
        15_000,
        () => screen,
      );
      expect(screen.split('\n')).toEqual(expect.arrayContaining([expect.stringMatching(variant.serviceLine)]));

      const revokeStarted = Date.now();
      let endedAfterMs = Infinity;
      const ended = session.then((result) => {
        endedAfterMs = Date.now() - revokeStarted;
        return result;
      });
      const revoked = await owner(['revoke', ...seed, '--cluster', '--output', 'json']);
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout).results[0].detail).toContain(`channel closed: ${hybridConnection()} deleted`);
      const end = await ended;
      expectNoSecret(`${end.stdout}\n${end.stderr}`);
      expect(endedAfterMs).toBeLessThan(5000);
      expect(end.exitCode).toBe(6);
      expect(end.stderr).toMatch(/arc-remote-support connect: The session ended: .*revoked/);
      sessionOf(end.stderr);

      // No listener without a grant: the agent exits once the handler applied the revoke.
      expect((await agent.exited).exitCode).toBe(0);
      expect(relay.counters.openListeners(hybridConnection())).toBe(0);
    });

    it('status shows access off and no channel; the node keeps a record of each session', async () => {
      const status = await owner(['status', ...seed, '--cluster', '--relay-namespace', NS, '--output', 'json']);
      expect(status.code).toBe(0);
      const machines = JSON.parse(status.stdout).machines;
      for (const machine of machines) {
        expect(machine).toMatchObject({ level: 'None', message: expect.stringMatching(/^Access: none\./) });
        expect(machine).not.toHaveProperty('channel');
        expect(machine.leftoverChannels ?? []).toEqual([]);
      }
      expect(machines[0].nodes[0]).toMatchObject({ node: 'FS-01', message: expect.stringMatching(/^access off/) });

      // The installed agent's history on the node, as Get-RemoteSupportSessionHistory runs it.
      const model = await readMachine(modelPath);
      const installed = model.nodes['FS-01']!.files[AGENT_SCRIPT.toLowerCase()]!.copiedFrom!.source;
      const history = await execa(shippedNodePath(), [installed, 'history', '--json', '--include-transcript'], {
        reject: false,
        env: simulatorEnvironment(modelPath, { node: 'FS-01', simulator: await simulatorBundle() }),
      });
      expect(history.exitCode).toBe(0);
      expectNoSecret(history.stdout);
      const entries = history.stdout.split('\n').map((line) => JSON.parse(line).entry);
      expect(entries.map((entry) => entry.kind)).toEqual(['ChannelSession', 'ChannelSession', 'ChannelSession', 'Revoked', 'Granted']);
      const sessions = sessionIds.map((id) => entries.find((entry) => entry.sessionId === id));
      for (const entry of sessions)
        expect(entry).toMatchObject({ by: ENGINEER, level: 'Diagnostics', grantId, account: `ArcRS-${grantId.slice(0, 8)}` });
      const commands = sessions.map((entry) =>
        entry.commands.map((command: { command: string; outcome: string }) => [command.command, command.outcome]),
      );
      expect(commands).toEqual([
        [['Get-Service -Name WinRM', 'succeeded']],
        [['Restart-Service -Name Spooler', 'failed']],
        [['Get-Service -Name WinRM', 'succeeded']],
      ]);
      // The revoke deleted the hybrid connection before the node heard of it: to the node the relay
      // closed the session's connection, which it cannot tell from the engineer leaving; the record
      // says both, and the Revoked entry follows it.
      expect(sessions.map((entry) => [entry.endReason, entry.detail])).toEqual([
        ['closed', expect.stringMatching(/^The connection closed: the engineer left, or the relay closed it \(a revoke/)],
        ['closed', expect.stringMatching(/^The connection closed/)],
        ['closed', expect.stringMatching(/^The connection closed/)],
      ]);
      expect(await rig.cli.emulator.validateTraffic()).toEqual([]);
    });

    if (variant.proof) {
      const proof = variant.proof;
      it(proof.title, () => proof.check({ work, modelPath, grantId }));
    }
  });
}
