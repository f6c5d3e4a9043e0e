/**
 * The channel on the simulated machine, as the tests, the benchmark and `npm start` drive it (not
 * shipped; it stands in for the owner's CLI, which mints the same tokens and tickets): a test relay with
 * one hybrid connection per node and its Listen/Send rules, a grant's ticket key pair, the protected
 * settings the owner's CLI would send, and the Channel task started the way Task Scheduler starts
 * it (its registered action line, with the installed agent, on the shipped Node).
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'crypto';
import execa from 'execa';
import { promises as fs } from 'fs';
import path from 'path';
import { hybridConnectionResource } from '../../channel/relay/endpoint';
import { signSas } from '../../channel/relay/sas';
import { EngineerSession } from '../../channel/session/engineer-session';
import { issueTicket } from '../../channel/session/ticket';
import { CHANNEL_TASK, TASK_FOLDER } from '../../core/node-layout';
import { createTestCertificate, encryptToCms, type TestCertificate } from '../arm/protected-settings-cms';
import { startTestRelay, type TestRelay } from './index';
import { shippedNodePath } from '../shipped-node-path';
import { readMachine } from '../windows/default-machine';
import { simulatorBundle, simulatorEnvironment } from '../windows/simulator-bundle';
import { parseTaskXml } from '../windows/task-xml';

const LISTEN_KEY = 'agent-listen-key-0123456789abcdef0123';
const SEND_KEY = 'engineer-send-key-fedcba9876543210fedc';
export const MACHINE = 'ARC-NODE-1';

export interface ChannelRig {
  relay: TestRelay;
  certificate: TestCertificate;
  ticketKey: { publicKey: KeyObject; privateKey: KeyObject };
  hybridConnection(node: string): string;
  /** The encrypted protected settings and thumbprint for a grant, with the given nodes' channels. */
  /**
   * Handler settings for a grant with a channel on `nodes`: the public settings given, plus the
   * channel's public part; the listen tokens and ticket key encrypted as protected settings.
   */
  channelSettings(
    publicSettings: Record<string, unknown>,
    expiresAt: Date,
    nodes: string[],
    /** Other protected sections sent with the channel's (the grant's log upload container). */
    otherProtected?: Record<string, unknown>,
  ): Promise<{ publicSettings: Record<string, unknown>; protectedSettings: string; protectedSettingsCertThumbprint: string }>;
  /** An engineer with a fresh Send token and ticket for a node. */
  connect(node: string, grantId: string, expiresAt: Date, overrides?: { engineer?: string; ticketId?: string }): Promise<EngineerSession>;
  sendToken(node: string, expiresAt: Date): string;
  /** A valid Listen token for a node's hybrid connection (the one protected settings carry). */
  listenToken(node: string, expiresAt: Date): string;
  ticket(node: string, grantId: string, expiresAt: Date, overrides?: { engineer?: string; ticketId?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startChannelRig(certificateDir: string): Promise<ChannelRig> {
  const relay = await startTestRelay({ rendezvousTimeoutMs: 5000 });
  const certificate = await createTestCertificate(certificateDir);
  const ticketKey = generateKeyPairSync('ed25519');
  const created = new Set<string>();
  const hybridConnection = (node: string) => `rs-${node.toLowerCase()}`;
  const ensure = (node: string) => {
    const name = hybridConnection(node);
    if (created.has(name)) return name;
    created.add(name);
    relay.createHybridConnection(name, { requiresClientAuthorization: true });
    relay.putRule({ hybridConnection: name }, { name: 'agent-listen', rights: ['Listen'], primaryKey: LISTEN_KEY });
    relay.putRule({ hybridConnection: name }, { name: 'engineer-send', rights: ['Send'], primaryKey: SEND_KEY });
    return name;
  };
  const endpoint = (node: string) => ({ namespace: relay.host, name: ensure(node) });
  const token = (node: string, keyName: string, key: string, expiresAt: Date) =>
    signSas({ resourceUri: hybridConnectionResource(endpoint(node)), keyName, key, expiresAt });
  const rig: ChannelRig = {
    relay,
    certificate,
    ticketKey,
    hybridConnection: (node) => ensure(node),
    async channelSettings(publicSettings, expiresAt, nodes, otherProtected = {}) {
      const channel = {
        ticketPublicKey: ticketKey.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
        listenTokens: Object.fromEntries(nodes.map((node) => [node, token(node, 'agent-listen', LISTEN_KEY, expiresAt)])),
      };
      return {
        publicSettings: {
          ...publicSettings,
          channel: {
            relayNamespace: relay.host,
            machine: MACHINE,
            hybridConnections: Object.fromEntries(nodes.map((node) => [node, ensure(node)])),
          },
        },
        protectedSettingsCertThumbprint: certificate.thumbprint,
        protectedSettings: await encryptToCms(JSON.stringify({ ...otherProtected, channel }), certificate.crtPath, 'aes256'),
      };
    },
    sendToken: (node, expiresAt) => token(node, 'engineer-send', SEND_KEY, expiresAt),
    listenToken: (node, expiresAt) => token(node, 'agent-listen', LISTEN_KEY, expiresAt),
    ticket: (node, grantId, expiresAt, overrides = {}) =>
      issueTicket(ticketKey.privateKey, {
        grantId,
        machine: MACHINE,
        node,
        engineer: overrides.engineer ?? 'alex@support.example',
        ticketId: overrides.ticketId ?? randomUUID(),
        expiresAt,
      }),
    async connect(node, grantId, expiresAt, overrides) {
      return EngineerSession.open({
        endpoint: endpoint(node),
        sendToken: rig.sendToken(node, expiresAt),
        ticket: await rig.ticket(node, grantId, expiresAt, overrides),
        transport: { ca: relay.caPem, proxy: { explicit: null } },
      });
    },
    close: () => relay.close(),
  };
  return rig;
}

export interface ChannelProcess {
  exited: Promise<{ exitCode: number | null; output: string }>;
  output(): string;
  kill(): void;
  readonly pid: number;
}

const REPO = path.resolve(__dirname, '..', '..');

/**
 * Puts the package's agent and scripts beside the handler in an extension folder, as the zip has
 * them, so that install copies them onto the node. `agentJs` is the agent bundled beside a handler (bundleHandler).
 */
export async function addAgentToPackage(extensionRoot: string, agentJs: string): Promise<void> {
  await fs.mkdir(path.join(extensionRoot, 'bin'), { recursive: true });
  await fs.copyFile(agentJs, path.join(extensionRoot, 'bin', 'agent.js'));
  await fs.mkdir(path.join(extensionRoot, 'scripts'), { recursive: true });
  for (const script of ['HostBridge.ps1', 'ArcRemoteSupport.Host.psm1', 'ChannelSession.ps1'])
    await fs.copyFile(path.join(REPO, 'windows', 'powershell', script), path.join(extensionRoot, 'scripts', script));
}

/** Waits (real time) until `condition` holds; the error carries `describe()` (e.g. the agent's output). */
export async function waitFor(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out; agent output:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts the node's Channel task as Task Scheduler would: the action registered in the model, the
 * agent.js install copied onto the node, on the shipped Node. Fails when the task is not registered.
 * `environment` adds node-side variables (e.g. ARC_REMOTE_SUPPORT_CHANNEL_MAX_SESSIONS).
 */
export async function startChannelTask(
  modelPath: string,
  node: string,
  relay: TestRelay,
  pollMs = 200,
  environment: NodeJS.ProcessEnv = {},
): Promise<ChannelProcess> {
  const model = await readMachine(modelPath);
  const task = model.nodes[node]?.tasks[`${TASK_FOLDER}${CHANNEL_TASK}`.toLowerCase()];
  if (!task) throw new Error(`the ${CHANNEL_TASK} task is not registered on ${node}`);
  const [action] = parseTaskXml(task.xml).actions;
  const [script, ...argv] = action!.arguments;
  const installed = model.nodes[node]!.files[(script ?? '').toLowerCase()]?.copiedFrom?.source;
  if (!installed) throw new Error(`${script} is not installed on ${node}`);
  const child = execa(shippedNodePath(), [installed, ...argv], {
    reject: false,
    all: true,
    env: {
      ...simulatorEnvironment(modelPath, { node, simulator: await simulatorBundle() }),
      NODE_EXTRA_CA_CERTS: relay.caFile,
      ARC_REMOTE_SUPPORT_CHANNEL_POLL_MS: String(pollMs),
      ...environment,
    },
  });
  let output = '';
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    pid: child.pid!,
    exited: child.then((result) => ({ exitCode: result.exitCode, output })),
    output: () => output,
    kill: () => child.kill('SIGKILL'),
  };
}
