/**
 * One log collection at a time, even for two requests of the same instant (issue #13): both paths
 * read "none waiting" first, and only then write. A gate holds each path's write until the other
 * has read too, so both have passed their check before either writes: the exclusive create alone
 * decides. Exactly one request waits on the node, and the other path is refused naming it, with
 * the words of an ordinary refusal (exit 53 for the owner's enable, exit 3 for the engineer). The
 * owner's SAS is on the node only when the owner's request is the one that waits. Run several
 * times over, so a pass is not one lucky interleaving. A request whose SAS then fails is taken
 * back, so it cannot block the next enable as "waiting" with no task to run it.
 */
import { promises as fs } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { randomUUID } from 'crypto';
import { requestLogCollectionCommand } from '../../agent/diag/request-log-collection-command';
import type { AgentResult } from '../../agent/commands';
import { serializeDesiredRecord, type DesiredRecord } from '../../core/desired-record';
import { collectionNotEnded, parseLogCollectionRequest, type LogCollectionRequest } from '../../core/log-collection-record';
import {
  COLLECT_LOGS_TASK,
  DATA_FOLDER,
  DESIRED_STATE_FILE,
  LOG_COLLECTION_REQUEST_FILE,
  LOG_COLLECTION_SAS_FILE,
  LOG_UPLOAD_SAS_FILE,
  TASK_FOLDER,
} from '../../core/node-layout';
import { ExitCode, isConfigurationError } from '../../extension/errors';
import { checkLogCollectionRequest, submitLogCollectionRequest } from '../../handlers/phases/log-collection-request';
import { createDefaultMachine, readMachine, writeMachine } from '../../sim/windows/default-machine';
import { SimulatedHost } from '../../sim/windows/simulated-host';
import { SYSTEM_AND_ADMINISTRATORS_ONLY } from '../../windows/acl';
import { hostSecret, op, type OperationRequest } from '../../windows/operations';
import type { BatchOptions, OperationOutcome, WindowsHost } from '../../windows/port';
import { testGrant } from '../support/test-grant';

jest.setTimeout(60_000);
const NODE = 'ARC-NODE-1';
const NOW = new Date('2026-11-24T20:00:00Z');
const ROUNDS = 6;
const grant = testGrant({ supportRequestId: 'TKT-2611240001' });
const withUploads: DesiredRecord = {
  enabled: true,
  retentionDays: 90,
  grant,
  logUpload: { grantId: grant.grantId, container: 'contosologs/support', sasDigest: 'a'.repeat(64), sasExpiresAt: grant.expiresAt },
};
const ENGINEER_SAS = 'https://contosologs.blob.core.windows.net/support?sp=cw&sr=c&se=2026-11-25T04%3A00%3A00Z&sig=ENGINEERSIG';
const OWNER_SAS = 'https://contosologs.blob.core.windows.net/owner?sp=cw&sr=c&se=2026-11-25T04%3A00%3A00Z&sig=OWNERSIG';
const ENGINEER_ARGS = (who: string) => [
  '--from',
  '2026-11-24T18:00:00Z',
  '--to',
  '2026-11-24T19:30:00Z',
  '--category',
  'ArcAgent',
  '--requested-by',
  who,
];

/**
 * Holds each path's batch that creates a file until every path has one waiting (so every path has
 * read "none waiting" by then), then lets them go: all at once, or one after the other in `order`
 * (each after the one before has finished), so that either path can be made the first.
 */
class WriteGate {
  private readonly held = new Map<string, { go: () => void; done: Promise<void> }>();

  constructor(
    private readonly paths: string[],
    private readonly order?: string[],
  ) {}

  host(inner: WindowsHost, label: string): WindowsHost {
    return {
      execute: async (operations: OperationRequest[], options: BatchOptions): Promise<OperationOutcome[]> => {
        if (!operations.some((operation) => operation.op === 'writeFile' && operation.createNew === true))
          return inner.execute(operations, options);
        let finished!: () => void;
        const done = new Promise<void>((resolve) => (finished = resolve));
        await new Promise<void>((go) => {
          this.held.set(label, { go, done });
          if (this.held.size === this.paths.length) void this.release();
        });
        try {
          return await inner.execute(operations, options);
        } finally {
          finished();
        }
      },
    } as WindowsHost;
  }

  private async release(): Promise<void> {
    if (!this.order) {
      for (const { go } of this.held.values()) go();
      return;
    }
    for (const label of this.order) {
      const path = this.held.get(label)!;
      path.go();
      await path.done;
    }
  }
}

function ownerRequest(): LogCollectionRequest {
  return {
    collectionId: randomUUID(),
    trigger: 'owner',
    requestedBy: 'the machine owner (extension settings)',
    requestedAt: NOW.toISOString(),
    window: { from: '2026-11-24T18:00:00.000Z', to: '2026-11-24T19:30:00.000Z' },
    categories: ['ArcAgent'],
    includeSecurityLog: false,
    grantId: null,
    supportRequestId: null,
  };
}

function refusalOf(running: LogCollectionRequest): string {
  const { what, fix } = collectionNotEnded(running);
  return `Log collection refused: ${what}: ${fix}.`;
}

describe('one log collection request at a time, decided by the create', () => {
  let base: string;
  let modelPath: string;

  beforeEach(async () => {
    base = await fs.mkdtemp(path.join(tmpdir(), 'ars-collection-race-'));
    modelPath = path.join(base, 'machine.json');
  });
  afterEach(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  /** A node under a grant that allows log uploads, nothing waiting; a host per path, as separate processes have. */
  async function freshNode(): Promise<void> {
    await writeMachine(modelPath, createDefaultMachine());
    await new SimulatedHost(modelPath, { localNode: NODE }).execute(
      [
        op('ensureDirectory', { path: DATA_FOLDER, sddl: SYSTEM_AND_ADMINISTRATORS_ONLY }),
        op('writeFile', { path: DESIRED_STATE_FILE, content: serializeDesiredRecord(withUploads) }),
        op('writeSecretFile', { path: LOG_UPLOAD_SAS_FILE, secret: hostSecret(ENGINEER_SAS) }),
      ],
      { phase: 'test: lay out the node' },
    );
  }
  const hostFor = (gate: WriteGate, label: string) => gate.host(new SimulatedHost(modelPath, { localNode: NODE }), label);

  async function node() {
    const files = (await readMachine(modelPath)).nodes[NODE]!;
    const file = files.files[LOG_COLLECTION_REQUEST_FILE.toLowerCase()];
    return {
      waiting: file ? parseLogCollectionRequest(Buffer.from(file.contentBase64 ?? '', 'base64').toString('utf8')) : null,
      ownerSasStored: files.files[LOG_COLLECTION_SAS_FILE.toLowerCase()] !== undefined,
      task: files.tasks[`${TASK_FOLDER}${COLLECT_LOGS_TASK}`.toLowerCase()] !== undefined,
    };
  }

  it('two engineers: one request waits, the other is refused naming it', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      await freshNode();
      const gate = new WriteGate(['eng1', 'eng2']);
      const results: AgentResult[] = await Promise.all(
        ['eng1', 'eng2'].map((who) => requestLogCollectionCommand(ENGINEER_ARGS(`CONTOSO\\${who}`), hostFor(gate, who), NOW)),
      );
      const after = await node();
      expect(after.waiting).not.toBeNull();
      const accepted = results.filter((result) => result.exitCode === 0);
      const refused = results.filter((result) => result.exitCode === 3);
      expect(accepted).toHaveLength(1);
      expect(accepted[0]!.output).toContain(`Log collection ${after.waiting!.collectionId} requested`);
      expect(refused.map((result) => result.output)).toEqual([refusalOf(after.waiting!)]);
      expect(after.task).toBe(true);
    }
  });

  it.each([
    ['at once', undefined],
    ["the owner's write first", ['owner', 'engineer']],
    ["the engineer's write first", ['engineer', 'owner']],
  ])(
    "the owner's enable and an engineer, %s: one request waits, the other is refused naming it, and the owner's SAS only with the owner's request",
    async (_name, order) => {
      for (let round = 0; round < ROUNDS; round += 1) {
        await freshNode();
        const gate = new WriteGate(['owner', 'engineer'], order);
        const owner = ownerRequest();
        const ownerHost = hostFor(gate, 'owner');
        const ownerPath = (async () => {
          expect(await checkLogCollectionRequest(ownerHost, owner, NOW)).toEqual({ kind: 'new' });
          await submitLogCollectionRequest(ownerHost, { request: owner, containerSas: OWNER_SAS }, NOW);
        })().then(
          () => null,
          (error: unknown) => error,
        );
        const [ownerError, engineer] = await Promise.all([
          ownerPath,
          requestLogCollectionCommand(ENGINEER_ARGS('CONTOSO\\eng1'), hostFor(gate, 'engineer'), NOW),
        ]);
        const after = await node();
        expect(after.waiting).not.toBeNull();
        if (order) expect(after.waiting!.trigger).toBe(order[0]);
        if (after.waiting!.trigger === 'owner') {
          expect(after.waiting!.collectionId).toBe(owner.collectionId);
          expect(ownerError).toBeNull();
          expect(engineer).toEqual({ exitCode: 3, output: refusalOf(owner) });
          expect(after.ownerSasStored).toBe(true);
        } else {
          expect(engineer.exitCode).toBe(0);
          expect(engineer.output).toContain(`Log collection ${after.waiting!.collectionId} requested`);
          expect(isConfigurationError(ownerError)).toBe(true);
          expect((ownerError as { exitCode: number }).exitCode).toBe(ExitCode.BadConfiguration);
          const { what, fix } = collectionNotEnded(after.waiting!);
          expect((ownerError as Error).message).toBe(
            `Invalid setting 'logCollection.requestId': received ${owner.collectionId} while ${what}. Accepted: ${fix}.`,
          );
          // The refused owner left no SAS of its own: the engineer's collection is the one waiting.
          expect(after.ownerSasStored).toBe(false);
        }
        expect(after.task).toBe(true);
      }
    },
  );

  it("takes back the owner's request when its SAS cannot be stored, so that enable again submits it", async () => {
    await freshNode();
    const machine = await readMachine(modelPath);
    machine.faults.push({ operation: 'writeSecretFile', target: LOG_COLLECTION_SAS_FILE, action: 'fail', message: 'The disk is full' });
    await writeMachine(modelPath, machine);
    const host = new SimulatedHost(modelPath, { localNode: NODE });
    const owner = ownerRequest();
    expect(await checkLogCollectionRequest(host, owner, NOW)).toEqual({ kind: 'new' });
    await expect(submitLogCollectionRequest(host, { request: owner, containerSas: OWNER_SAS }, NOW)).rejects.toThrow(
      'Enable could not hand the log collection to the agent: The disk is full',
    );
    expect(await node()).toEqual({ waiting: null, ownerSasStored: false, task: false });

    expect(await checkLogCollectionRequest(host, owner, NOW)).toEqual({ kind: 'new' });
    await submitLogCollectionRequest(host, { request: owner, containerSas: OWNER_SAS }, NOW);
    const after = await node();
    expect(after).toEqual({ waiting: { ...owner, schemaVersion: 1 }, ownerSasStored: true, task: true });
  });
});
