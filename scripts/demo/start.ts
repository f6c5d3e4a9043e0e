/**
 * `npm start`: builds the bundled handler and plays the owner's story through it, as an extension
 * manager would run it (one process per command, from the extension folder, with
 * ConfigSequenceNumber set), printing after each step the status the owner sees in Azure.
 */
import execa from 'execa';
import { promises as fs } from 'fs';
import { randomUUID } from 'crypto';
import { tmpdir } from 'os';
import path from 'path';
import { bundleHandler } from '../build/bundle';
import { loadExtensionIdentity, REPO_ROOT } from '../build/extension-identity';
import { createDefaultMachine, writeMachine } from '../../handlers/host/simulated/default-machine';
import { layOutExtensionFolder, writeHandlerSettings } from './extension-folder';

interface Step {
  title: string;
  operation: string;
  sequenceNumber?: number;
  publicSettings?: Record<string, unknown>;
}

const iso = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function story(now: Date): Step[] {
  const consent = { termsVersion: '2026.1', acceptedAt: iso(now), acceptedBy: 'owner@contoso.example' };
  const grant = (level: string, hours: number, grantId: string) => ({
    schemaVersion: 1,
    access: { level, grantId, expiresAt: iso(new Date(now.getTime() + hours * 3_600_000)), supportRequestId: 'TKT-2611240001', consent },
    retentionDays: 30,
  });
  const first = randomUUID();
  return [
    { title: 'Install the extension', operation: 'install' },
    { title: 'Grant Diagnostics for 8 hours', operation: 'enable', sequenceNumber: 0, publicSettings: grant('Diagnostics', 8, first) },
    { title: 'Configure: DiagnosticsAndRepair, same expiry', operation: 'enable', sequenceNumber: 1, publicSettings: grant('DiagnosticsAndRepair', 8, first) },
    { title: 'Reboot: enable runs again with the same settings', operation: 'enable', sequenceNumber: 1 },
    { title: 'A typo in the settings (level "Admin")', operation: 'enable', sequenceNumber: 2, publicSettings: grant('Admin', 8, first) },
    { title: 'Revoke', operation: 'enable', sequenceNumber: 3, publicSettings: { schemaVersion: 1, access: { level: 'None' } } },
    { title: 'Disable', operation: 'disable', sequenceNumber: 3 },
    { title: 'Uninstall', operation: 'uninstall', sequenceNumber: 3 },
  ];
}

async function main(): Promise<void> {
  const identity = loadExtensionIdentity();
  const handlerName = `${identity.publisher}.${identity.type}`;
  const work = await fs.mkdtemp(path.join(tmpdir(), 'arc-remote-support-demo-'));
  const root = path.join(work, `${handlerName}-${identity.version}`);
  const dataFolder = path.join(work, 'ProgramData', 'ArcRemoteSupport');
  const handlerScript = path.join(REPO_ROOT, 'build', 'demo', 'handler.js');
  await bundleHandler({ identity, outFile: handlerScript });
  await layOutExtensionFolder(root, handlerName);
  // The embedded default: a simulated two-node Windows Server failover cluster.
  const machinePath = path.join(work, 'machine.json');
  const machine = createDefaultMachine();
  await writeMachine(machinePath, machine);
  const local = machine.nodes[machine.localNode]!;
  console.log(`${handlerName} ${identity.version}: the handler run as an extension manager runs it, in ${root}`);
  console.log(
    `Simulated machine: ${machine.localNode} of cluster ${machine.cluster?.name ?? '(none)'} (${Object.keys(machine.nodes).join(', ')}), ` +
      `${local.os.caption} build ${local.os.buildNumber}, Arc ${local.arc.status}, license ${local.azure.productType === 'WindowsServer' ? 'Pay-as-you-go' : 'other'}, model in ${machinePath}\n`,
  );

  for (const [index, step] of story(new Date()).entries()) {
    if (step.publicSettings && step.sequenceNumber !== undefined) await writeHandlerSettings(root, step.sequenceNumber, { publicSettings: step.publicSettings });
    const environment = { ARC_REMOTE_SUPPORT_DATA: dataFolder, ARC_REMOTE_SUPPORT_HOST: `simulated:${machinePath}`, ...(step.sequenceNumber === undefined ? {} : { ConfigSequenceNumber: String(step.sequenceNumber) }) };
    const run = await execa(process.execPath, [handlerScript, step.operation], { cwd: root, env: environment, reject: false });
    console.log(`${index + 1}. ${step.title}\n   handler ${step.operation} -> exit code ${run.exitCode}`);
    if (step.sequenceNumber !== undefined) {
      const [document] = JSON.parse(await fs.readFile(path.join(root, 'status', `${step.sequenceNumber}.status`), 'utf8'));
      const status = document.status;
      console.log(`   status ${status.status} (${status.operation}, code ${status.code}): ${status.formattedMessage.message}`);
    }
    if (run.stderr) console.log(`   stderr: ${run.stderr}`);
    console.log('');
  }
  const leftOver = await fs.access(dataFolder).then(() => 'still there', () => 'removed');
  console.log(`After uninstall the extension's data folder is ${leftOver}.`);
  await fs.rm(work, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
