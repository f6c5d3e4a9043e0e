/**
 * `npm start`: builds the handler and plays the owner's story on the embedded default, a simulated
 * two-node Windows Server failover cluster, running each command as an extension manager does
 * (one process per command, from the extension folder, ConfigSequenceNumber set) and printing after
 * each step the status the owner sees in Azure, one line per node.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { randomUUID } from 'crypto';
import { tmpdir } from 'os';
import path from 'path';
import { agentTaskRunner, BackgroundTasks, installedAgentTaskRunner, type AgentRun } from '../../sim/windows/agent-task-runner';
import { GROUPS } from '../../core/node-layout';
import { op } from '../../windows/operations';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { advanceClock } from '../../sim/windows/simulation';
import { bundleHandler } from '../build/bundle';
import { loadExtensionIdentity, REPO_ROOT } from '../../manifests/extension-identity';
import { layOutExtensionFolder, writeHandlerSettings } from '../../sim/arm/extension-folder';
import { simulatorBundle, simulatorEnvironment } from '../../sim/windows/simulator-bundle';
import { shippedNode } from '../build/shipped-node';
import { SHIPPED_NODE_VARIABLE } from '../../sim/shipped-node-path';
import { addAgentToPackage, startChannelRig, startChannelTask, waitFor } from '../../sim/relay/channel-rig';
import { startAzurite } from '../../sim/storage/azurite';

const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

async function main(): Promise<void> {
  const identity = loadExtensionIdentity();
  const next = { ...identity, version: identity.version.replace(/\d+$/, (patch) => String(Number(patch) + 1)) };
  const handlerName = `${identity.publisher}.${identity.type}`;
  const work = await fs.mkdtemp(path.join(tmpdir(), 'arc-remote-support-demo-'));
  const machinePath = path.join(work, 'machine.json');
  const dataFolder = path.join(work, 'ProgramData', 'ArcRemoteSupportExtension');
  const versions: Record<string, { root: string; handler: string }> = {};
  for (const build of [identity, next]) {
    const root = path.join(work, `${handlerName}-${build.version}`);
    const handler = path.join(REPO_ROOT, 'build', 'demo', build.version, 'handler.js');
    await bundleHandler({ identity: build, outFile: handler });
    await layOutExtensionFolder(root, handlerName);
    // The agent and its scripts as the zip carries them: install copies them onto each node.
    await addAgentToPackage(root, path.join(path.dirname(handler), 'agent.js'));
    versions[build.version] = { root, handler };
  }
  // The stand-ins run the installed agent on the shipped Node too.
  process.env[SHIPPED_NODE_VARIABLE] = await shippedNode();
  const machine = createDefaultMachine();
  await writeMachine(machinePath, machine);
  const local = machine.nodes[machine.localNode]!;
  console.log(
    `${handlerName}: the owner's story on a simulated cluster ${machine.cluster?.name} (${Object.keys(machine.nodes).join(', ')}),`,
  );
  console.log(
    `${local.os.caption} build ${local.os.buildNumber}, Arc ${local.arc.status}, Pay-as-you-go. Handler runs from ${versions[identity.version]!.root}\n`,
  );

  let step = 0;
  const say = (title: string) => console.log(`${++step}. ${title}`);
  const run = async (version: string, operation: string, sequenceNumber: number, environment: Record<string, string> = {}) => {
    const { root, handler } = versions[version]!;
    const result = await execa(await shippedNode(), [handler, operation], {
      cwd: root,
      reject: false,
      env: {
        ARC_REMOTE_SUPPORT_DATA: dataFolder,
        ...simulatorEnvironment(machinePath, { simulator: await simulatorBundle() }),
        ConfigSequenceNumber: String(sequenceNumber),
        ...environment,
      },
    });
    const status = await fs.readFile(path.join(root, 'status', `${sequenceNumber}.status`), 'utf8').then(
      (text) => JSON.parse(text)[0].status,
      () => null,
    );
    console.log(
      `   ${version} ${operation} -> exit ${result.exitCode}${status ? `, status ${status.status}: ${status.formattedMessage.message}` : ''}`,
    );
    for (const item of status?.substatus ?? []) console.log(`     ${item.name}: ${item.formattedMessage.message}`);
    return result.exitCode;
  };
  const settings = async (sequenceNumber: number, publicSettings: Record<string, unknown>, protectedPart: Record<string, string> = {}) => {
    for (const { root } of Object.values(versions)) await writeHandlerSettings(root, sequenceNumber, { publicSettings, ...protectedPart });
  };
  // Azure Relay, played by a local test relay; the certificate the manager encrypts protected settings to.
  const rig = await startChannelRig(work);
  // Azure Storage, played by Azurite: the owner's container for diagnostic logs.
  const storage = await startAzurite();

  const now = new Date();
  const consent = { termsVersion: '2026.1', acceptedAt: iso(now), acceptedBy: 'owner@contoso.example' };
  const grant = (level: string, grantId: string, from = now) => ({
    schemaVersion: 1,
    access: {
      level,
      grantId,
      expiresAt: iso(new Date(from.getTime() + 8 * 3_600_000)),
      supportRequestId: 'TKT-2611240001',
      consent: { ...consent, acceptedAt: iso(from) },
    },
    retentionDays: 30,
    // This node's extension also covers the cluster's other node.
    cluster: { installOnPeers: true },
  });
  const first = randomUUID();

  say('Install the extension (prerequisites, JEA module and endpoint, groups, scheduled tasks)');
  await run(identity.version, 'install', 0);
  say(`The owner names the support engineers once: CONTOSO\\engineer1 in '${GROUPS.engineers}'`);
  for (const node of Object.keys(machine.nodes)) {
    await new SimulatedHost(machinePath).execute(
      [
        op('ensureLocalGroup', { name: GROUPS.engineers, description: 'Support engineers' }),
        op('setLocalGroupMembers', { name: GROUPS.engineers, members: ['CONTOSO\\engineer1'] }),
      ],
      { phase: 'owner', node },
    );
  }
  say('Grant Diagnostics for 8 hours, after accepting the terms');
  await settings(1, grant('Diagnostics', first));
  await run(identity.version, 'enable', 1);
  say('Configure: DiagnosticsAndRepair, same expiry');
  await settings(2, grant('DiagnosticsAndRepair', first));
  await run(identity.version, 'enable', 2);
  say('Reboot: the manager runs enable again with the same settings (nothing is extended)');
  await run(identity.version, 'enable', 2);
  say('A typo in the settings (level "Admin"): refused, access unchanged');
  await settings(3, grant('Admin', first));
  await run(identity.version, 'enable', 3);

  say('Eight hours pass with no extension manager run: the Expire task ends access');
  const runs: AgentRun[] = [];
  await advanceClock(machinePath, iso(new Date(now.getTime() + 8 * 3_600_000 + 60_000)), agentTaskRunner(machinePath, runs));
  for (const agentRun of runs.filter((item) => !item.output.endsWith('nothing to change')))
    console.log(`   task ${agentRun.task} on ${agentRun.node} at ${agentRun.timeUtc}: ${agentRun.output}`);
  const simulatedNow = new Date((await readMachine(machinePath)).clock.nowUtc);

  say(
    'Grant Diagnostics again for a new support request, with a channel (a hybrid connection per node, its listen token in protected settings) and a container for logs',
  );
  const second = randomUUID();
  const secondGrant = grant('Diagnostics', second, simulatedNow);
  const secondExpiry = new Date(secondGrant.access.expiresAt);
  // The owner also gives a create/write-only container SAS for the engineer's log collections.
  const containerSas = await storage.containerSas('support-logs', { expiresOn: secondExpiry });
  const { publicSettings: withChannel, ...protectedPart } = await rig.channelSettings(
    secondGrant,
    secondExpiry,
    Object.keys(machine.nodes),
    { logUpload: { containerSas } },
  );
  await settings(4, withChannel, protectedPart);
  await run(identity.version, 'enable', 4);
  say(`Update to ${next.version} in the manager's order (old disable, new update, old uninstall, new install, new enable)`);
  await run(identity.version, 'disable', 4);
  await run(next.version, 'update', 4, { AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: identity.version });
  await run(identity.version, 'uninstall', 4);
  await run(next.version, 'install', 4);
  await run(next.version, 'enable', 4);
  const node = machine.localNode;
  say(`The Channel task starts the agent on ${node}: it listens on Azure Relay (outbound 443 only)`);
  const agent = await startChannelTask(machinePath, node, rig.relay, 200);
  await waitFor(
    () => rig.relay.counters.openListeners(rig.hybridConnection(node)) === 1,
    20_000,
    () => agent.output(),
  );
  console.log(`   listening on ${rig.relay.host}/${rig.hybridConnection(node)}`);
  say('A support engineer connects with a ticket: no Windows account, no inbound port');
  const engineer = await rig.connect(node, second, secondExpiry, { engineer: 'alex@support.example' });
  console.log(`   [${engineer.ready.machine} ${engineer.ready.node} ${engineer.ready.level}] session ${engineer.ready.sessionId}`);
  for (const command of ['Get-Service -Name WinRM', 'Restart-Service -Name Spooler']) {
    const output: string[] = [];
    const result = await engineer.run(command, (stream, text) => {
      if (stream === 'output') output.push(...text.split(/\r?\n/).filter((line) => line.trim() !== ''));
    });
    console.log(`   > ${command}`);
    for (const line of output) console.log(`     ${line}`);
    if (!result.ok) console.log(`     refused by the JEA endpoint: ${result.error}`);
  }
  say(
    "The engineer asks for diagnostic logs (the owner's container came with the grant); the node's SYSTEM agent collects and uploads them",
  );
  const engineerSays = async (command: string) => {
    const lines: string[] = [];
    const result = await engineer.run(command, (stream, text) => {
      if (stream === 'output') lines.push(...text.split(/\r?\n/).filter((line) => line.trim() !== ''));
    });
    console.log(`   > ${command}`);
    for (const line of lines) console.log(`     ${line}`);
    if (!result.ok) console.log(`     refused: ${result.error}`);
  };
  await engineerSays('Request-RemoteSupportLogCollection -Hours 2 -Category ArcRemoteSupport,ArcAgent');
  // Task Scheduler starts the one-shot CollectLogs task (the agent as a process, as SYSTEM on a node).
  const collectRuns: AgentRun[] = [];
  const background = new BackgroundTasks();
  const requestedAt = new Date((await readMachine(machinePath)).clock.nowUtc);
  await advanceClock(
    machinePath,
    iso(new Date(requestedAt.getTime() + 60_000)),
    installedAgentTaskRunner(machinePath, collectRuns, background),
  );
  await background.stopAll();
  for (const collected of collectRuns.filter((item) => item.argv[0] === 'collect-logs'))
    console.log(`   task ${collected.task} on ${collected.node}: ${collected.output}`);
  for await (const blob of storage.service.getContainerClient('support-logs').listBlobsFlat())
    console.log(`   in the owner's container: ${blob.name}, ${blob.properties.contentLength} bytes`);
  await engineerSays('Get-RemoteSupportLogCollectionHistory');
  say('Revoke, while the engineer is connected');
  const revokedAt = Date.now();
  await settings(5, { schemaVersion: 1, access: { level: 'None' }, cluster: { installOnPeers: true } });
  await run(next.version, 'enable', 5);
  const end = await engineer.ended;
  await engineer.closed;
  console.log(`   the engineer's session ended (${end.reason}: ${end.message}) ${Date.now() - revokedAt} ms after the revoke`);
  const exit = await agent.exited;
  console.log(`   the agent on ${node} stopped listening and exited ${exit.exitCode}: ${exit.output.trim().split('\n').pop()}`);
  await rig.close();
  await storage.stop();
  say('Uninstall');
  await run(next.version, 'uninstall', 5);

  for (const [name, node] of Object.entries((await readMachine(machinePath)).nodes)) {
    const left = [...Object.keys(node.groups), ...Object.keys(node.tasks), ...Object.keys(node.sessionConfigurations)];
    console.log(
      `${name === machine.localNode ? '\n' : ''}Left on ${name} after uninstall: ${left.length === 0 ? 'nothing of the extension' : left.join(', ')}.`,
    );
  }
  await fs.rm(work, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
