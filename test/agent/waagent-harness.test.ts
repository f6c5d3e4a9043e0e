/**
 * Tests of the waagent harness itself (test/agent/waagent_driver.py through
 * test/support/waagent.ts), with a throwaway package whose handler only journals
 * what it was run with and writes a status file. Needs scripts/dev/unpack-waagent.sh.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AgentStepRequest, AgentStepResult, runAgentStep } from '../support/waagent';

const repoRoot = path.resolve(__dirname, '..', '..');
const publisher = 'Contoso.Test';
const type = 'HarnessProbe';
const handlerName = `${publisher}.${type}`;

/**
 * The throwaway handler. Env knobs for bad-input tests: PROBE_STATUS (top-level
 * status value), PROBE_SUBSTATUS (a substatus with that status value),
 * PROBE_STATUS_RAW (raw status file content), PROBE_EXIT (exit code).
 */
const handlerJs = String.raw`
const fs = require('fs');
const path = require('path');
const op = process.argv[2];
const text = fs.readFileSync('HandlerEnvironment.json', 'utf8').replace(/^\uFEFF/, '');
const env = JSON.parse(text)[0].handlerEnvironment;
const seq = process.env.ConfigSequenceNumber;
let settings = null;
try { settings = fs.readFileSync(path.join(env.configFolder, seq + '.settings'), 'utf8'); } catch (e) { settings = null; }
fs.appendFileSync(path.join(process.env.PROBE_JOURNAL_DIR, 'journal.jsonl'),
  JSON.stringify({ op, cwd: process.cwd(), env: process.env, settings, handlerEnvironment: text }) + '\n');
const substatus = process.env.PROBE_SUBSTATUS
  ? [{ name: 'probe', status: process.env.PROBE_SUBSTATUS, code: 0, formattedMessage: { lang: 'en-US', message: 'sub' } }]
  : [{ name: 'probe', status: 'success', code: 0, formattedMessage: { lang: 'en-US', message: 'sub ' + op } }];
const status = [{
  version: '1.0',
  timestampUTC: new Date().toISOString(),
  status: {
    name: 'probe', operation: op, status: process.env.PROBE_STATUS || 'success', code: 0,
    formattedMessage: { lang: 'en-US', message: op + ' done by ' + process.env.AZURE_GUEST_AGENT_EXTENSION_VERSION },
    substatus,
  },
}];
const file = path.join(env.statusFolder, seq + '.status');
fs.writeFileSync(file + '.tmp', process.env.PROBE_STATUS_RAW || JSON.stringify(status));
fs.renameSync(file + '.tmp', file);
process.exit(Number(process.env.PROBE_EXIT || 0));
`;

interface JournalEntry {
  op: string;
  cwd: string;
  env: Record<string, string>;
  settings: string | null;
  handlerEnvironment: string;
}

function writePackage(dir: string): string {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'manifests', 'HandlerManifest.json'), path.join(dir, 'HandlerManifest.json'));
  fs.writeFileSync(path.join(dir, 'bin', 'handler.js'), handlerJs);
  fs.writeFileSync(path.join(dir, 'bin', 'handler.cmd'), '@"%~dp0node.exe" "%~dp0handler.js" %*\r\n');
  return dir;
}

class Bench {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'waagent-harness-'));
  readonly libDir = path.join(this.root, 'lib');
  readonly logDir = path.join(this.root, 'log');
  readonly journalDir = path.join(this.root, 'journal');
  readonly pkg100 = writePackage(path.join(this.root, 'pkg-1.0.0'));
  readonly pkg101 = writePackage(path.join(this.root, 'pkg-1.0.1'));
  private seen = 0;

  constructor() {
    fs.mkdirSync(this.journalDir);
  }

  step(request: Omit<AgentStepRequest, 'libDir' | 'logDir' | 'publisher' | 'type'>): Promise<AgentStepResult> {
    return runAgentStep({
      libDir: this.libDir,
      logDir: this.logDir,
      publisher,
      type,
      ...request,
      env: { PROBE_JOURNAL_DIR: this.journalDir, ...request.env },
    });
  }

  /** Journal entries written since the last call. */
  newEntries(): JournalEntry[] {
    const file = path.join(this.journalDir, 'journal.jsonl');
    const all = fs.existsSync(file)
      ? fs
          .readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as JournalEntry)
      : [];
    const fresh = all.slice(this.seen);
    this.seen = all.length;
    return fresh;
  }

  versionDir(version: string): string {
    return path.join(this.libDir, `${handlerName}-${version}`);
  }

  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

const commands = (r: AgentStepResult) => r.commandsRun.map((c) => `${c.command}@${c.version}`);

describe('waagent harness: lifecycle driven by the real agent', () => {
  const bench = new Bench();
  afterAll(() => bench.cleanup());

  test('install, seq 0: the agent downloads (copies), initializes, writes settings and runs install', async () => {
    const r = await bench.step({
      op: 'install',
      version: '1.0.0',
      packageDir: bench.pkg100,
      seq: 0,
      settings: { publicSettings: { greeting: 'hello' } },
    });
    expect(r.agentError).toBeNull();
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['install@1.0.0']);
    expect(r.commandsRun[0]?.exitCode).toBe(0);
    expect(r.extensionDir).toBe(bench.versionDir('1.0.0'));
    expect(r.handlerState['1.0.0']?.state).toBe('Installed');
    expect(r.status).toMatchObject({ status: 'success', operation: 'install', code: 0, sequenceNumber: 0 });

    const [entry] = bench.newEntries();
    expect(entry?.op).toBe('install');
    expect(entry?.cwd).toBe(bench.versionDir('1.0.0'));
    expect(entry?.env.ConfigSequenceNumber).toBe('0');
    // The agent wrote the settings file in its own goal-state format.
    expect(JSON.parse(entry?.settings ?? 'null')).toEqual({
      runtimeSettings: [
        {
          handlerSettings: {
            publicSettings: { greeting: 'hello' },
            protectedSettings: null,
            protectedSettingsCertThumbprint: null,
          },
        },
      ],
    });
    // HandlerEnvironment.json in the agent's array form, pointing into the temp dirs.
    const he = JSON.parse(entry?.handlerEnvironment ?? '[]') as Array<{ handlerEnvironment: Record<string, string> }>;
    expect(he).toHaveLength(1);
    expect(he[0]?.handlerEnvironment).toMatchObject({
      configFolder: path.join(bench.versionDir('1.0.0'), 'config'),
      statusFolder: path.join(bench.versionDir('1.0.0'), 'status'),
      logFolder: path.join(bench.logDir, 'extensions', handlerName),
    });
  });

  test('enable, seq 0: only enable runs; the agent parses the status', async () => {
    const r = await bench.step({
      op: 'enable',
      version: '1.0.0',
      packageDir: bench.pkg100,
      seq: 0,
      settings: { publicSettings: { greeting: 'hello' } },
    });
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['enable@1.0.0']);
    expect(r.status).toMatchObject({
      status: 'success',
      operation: 'enable',
      code: 0,
      message: 'enable done by 1.0.0',
      substatus: [{ name: 'probe', status: 'success', code: 0, message: 'sub enable' }],
    });
    expect(r.statusParseError).toBeNull();
    expect(r.handlerState['1.0.0']?.state).toBe('Enabled');
    expect(r.handlerStatus).toMatchObject({ status: 'Ready', version: '1.0.0' });
    expect(bench.newEntries().map((e) => e.op)).toEqual(['enable']);
  });

  test('enable, seq 1 with new settings', async () => {
    const r = await bench.step({
      op: 'enable',
      version: '1.0.0',
      packageDir: bench.pkg100,
      seq: 1,
      settings: { publicSettings: { greeting: 'again' }, protectedSettings: 'MIIB', protectedSettingsCertThumbprint: 'ABC' },
    });
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['enable@1.0.0']);
    expect(r.commandsRun[0]?.env.ConfigSequenceNumber).toBe('1');
    expect(r.status).toMatchObject({ status: 'success', operation: 'enable', sequenceNumber: 1 });
    const [entry] = bench.newEntries();
    expect(JSON.parse(entry?.settings ?? 'null').runtimeSettings[0].handlerSettings).toEqual({
      publicSettings: { greeting: 'again' },
      protectedSettings: 'MIIB',
      protectedSettingsCertThumbprint: 'ABC',
    });
    expect(fs.existsSync(path.join(bench.versionDir('1.0.0'), 'config', '0.settings'))).toBe(true);
  });

  test('update 1.0.0 -> 1.0.1 runs in the agent order with the agent env', async () => {
    const r = await bench.step({
      op: 'update',
      fromVersion: '1.0.0',
      version: '1.0.1',
      packageDir: bench.pkg101,
      seq: 2,
      settings: { publicSettings: { greeting: 'again' } },
    });
    expect(r.agentError).toBeNull();
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['disable@1.0.0', 'update@1.0.1', 'uninstall@1.0.0', 'install@1.0.1', 'enable@1.0.1']);
    expect(r.commandsRun.every((c) => c.exitCode === 0)).toBe(true);

    const entries = bench.newEntries();
    expect(entries.map((e) => `${e.op}@${e.env.AZURE_GUEST_AGENT_EXTENSION_VERSION}`)).toEqual([
      'disable@1.0.0',
      'update@1.0.1',
      'uninstall@1.0.0',
      'install@1.0.1',
      'enable@1.0.1',
    ]);
    const update = entries[1]!;
    expect(update.env).toMatchObject({
      AZURE_GUEST_AGENT_UPDATING_FROM_VERSION: '1.0.0',
      AZURE_GUEST_AGENT_EXTENSION_VERSION: '1.0.1',
      AZURE_GUEST_AGENT_DISABLE_CMD_EXIT_CODE: '0',
      VERSION: '1.0.1',
      ConfigSequenceNumber: '2',
    });
    expect(update.cwd).toBe(bench.versionDir('1.0.1'));
    // The old version's disable/uninstall get the NEW sequence number, whose settings
    // file exists only in the new version's config folder.
    expect(entries[0]!.env.ConfigSequenceNumber).toBe('2');
    expect(entries[0]!.settings).toBeNull();
    expect(entries[2]!.cwd).toBe(bench.versionDir('1.0.0'));
    expect(entries[3]!.env.AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE).toBe('0');
    expect(entries[4]!.env.AZURE_GUEST_AGENT_UNINSTALL_CMD_EXIT_CODE).toBe('0');

    expect(r.extensionDir).toBe(bench.versionDir('1.0.1'));
    expect(fs.existsSync(bench.versionDir('1.0.0'))).toBe(false);
    expect(Object.keys(r.handlerState)).toEqual(['1.0.1']);
    expect(r.handlerState['1.0.1']?.state).toBe('Enabled');
    expect(r.status).toMatchObject({ status: 'success', operation: 'enable', message: 'enable done by 1.0.1' });
    // The agent copied the old version's status files into the new version.
    expect(fs.existsSync(path.join(bench.versionDir('1.0.1'), 'status', '1.status'))).toBe(true);
  });

  test('disable', async () => {
    const r = await bench.step({ op: 'disable', version: '1.0.1', seq: 2 });
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['disable@1.0.1']);
    expect(r.handlerState['1.0.1']?.state).toBe('Installed');
    expect(r.status).toMatchObject({ status: 'success', operation: 'disable' });
  });

  test('uninstall removes the version dir', async () => {
    const r = await bench.step({ op: 'uninstall', version: '1.0.1', seq: 2 });
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['uninstall@1.0.1']);
    expect(r.extensionDir).toBeNull();
    expect(r.handlerState).toEqual({});
    expect(r.status).toBeNull();
    expect(fs.existsSync(bench.versionDir('1.0.1'))).toBe(false);
  });
});

describe("waagent harness: bad input goes through the agent's own rules", () => {
  const bench = new Bench();
  afterAll(() => bench.cleanup());

  test('enable on a fresh lib dir installs and enables in one goal state; certificates are copied', async () => {
    const certDir = path.join(bench.root, 'certs');
    fs.mkdirSync(certDir);
    fs.writeFileSync(path.join(certDir, 'ABC123.crt'), 'cert');
    fs.writeFileSync(path.join(certDir, 'ABC123.prv'), 'key');
    const r = await bench.step({ op: 'enable', version: '1.0.0', packageDir: bench.pkg100, seq: 0, certDir });
    expect(r.ok).toBe(true);
    expect(commands(r)).toEqual(['install@1.0.0', 'enable@1.0.0']);
    expect(fs.readFileSync(path.join(bench.libDir, 'ABC123.crt'), 'utf8')).toBe('cert');
    expect(fs.readFileSync(path.join(bench.libDir, 'ABC123.prv'), 'utf8')).toBe('key');
    bench.newEntries();
  });

  test('a substatus with status "bogus" is rejected by the agent parser', async () => {
    const r = await bench.step({ op: 'enable', version: '1.0.0', seq: 1, env: { PROBE_SUBSTATUS: 'bogus' } });
    expect(r.ok).toBe(true); // the command succeeded; only its status is bad
    expect(r.statusParseError).toMatch(/Invalid value bogus/);
    expect(r.status).toMatchObject({ status: 'error', code: 1012 });
    expect(r.status?.message).toMatch(/Could not get a valid status/);
  });

  test('a top-level status "bogus" is coerced to "error" by the agent parser, not rejected', async () => {
    const r = await bench.step({ op: 'enable', version: '1.0.0', seq: 2, env: { PROBE_STATUS: 'bogus' } });
    expect(r.statusParseError).toBeNull();
    expect(r.status).toMatchObject({ status: 'error', operation: 'enable', code: 0 });
  });

  test('a status file that is not JSON, or lacks status/status, is rejected', async () => {
    let r = await bench.step({ op: 'enable', version: '1.0.0', seq: 3, env: { PROBE_STATUS_RAW: 'not json' } });
    expect(r.statusParseError).toMatch(/First 2000 Bytes of status file/);
    expect(r.status).toMatchObject({ status: 'error', code: 1012 });

    r = await bench.step({
      op: 'enable',
      version: '1.0.0',
      seq: 4,
      env: { PROBE_STATUS_RAW: '[{"status":{"operation":"enable"}}]' },
    });
    expect(r.statusParseError).toMatch(/Missing status\/status key/);
    expect(r.status).toMatchObject({ status: 'error', code: 1012 });
  });

  test('rawSettings reach the handler verbatim', async () => {
    const r = await bench.step({ op: 'enable', version: '1.0.0', seq: 5, rawSettings: 'not JSON' });
    expect(r.ok).toBe(true);
    bench.newEntries();
    const settingsFile = path.join(bench.versionDir('1.0.0'), 'config', '5.settings');
    expect(fs.readFileSync(settingsFile, 'utf8')).toBe('not JSON');
  });

  test('a non-zero exit code is an agent error; the handler stays Installed', async () => {
    const r = await bench.step({ op: 'disable', version: '1.0.0', seq: 5 });
    expect(r.handlerState['1.0.0']?.state).toBe('Installed');
    const failed = await bench.step({ op: 'enable', version: '1.0.0', seq: 6, env: { PROBE_EXIT: '53' } });
    expect(failed.ok).toBe(false);
    expect(failed.agentError).toMatch(/Non-zero exit code: 53/);
    expect(failed.commandsRun).toEqual([expect.objectContaining({ command: 'enable', exitCode: 53 })]);
    expect(failed.handlerState['1.0.0']?.state).toBe('Installed');
    expect(failed.handlerStatus).toMatchObject({ status: 'NotReady', code: 1009 });
  });

  test('a failing uninstall is logged by the agent but the handler is removed anyway', async () => {
    const r = await bench.step({ op: 'uninstall', version: '1.0.0', seq: 6, env: { PROBE_EXIT: '1' } });
    expect(r.commandsRun).toEqual([expect.objectContaining({ command: 'uninstall', exitCode: 1 })]);
    expect(r.ok).toBe(true);
    expect(r.agentError).toBeNull();
    expect(r.extensionDir).toBeNull();
  });
});
