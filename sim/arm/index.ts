/**
 * A local Azure Resource Manager for Microsoft.HybridCompute machines and machine extensions,
 * Microsoft.Relay hybrid connections (with a test relay as their data plane when one is attached) and
 * Microsoft.Support tickets, over HTTPS, with the Azure Arc managed identity endpoint beside it, so
 * that the real SDKs (and our CLI) can be tested without Azure. See types.ts for what each option and
 * member means.
 */
import { promises as fs } from 'fs';
import os from 'os';
import path from 'path';
import { EMULATED_UPN, normaliseResource, TokenIssuer } from './access-tokens';
import { IDENTITY_TOKEN_PATH, startArcIdentityEndpoint } from './arc-identity-endpoint';
import { frontDoor } from './arm-front-door';
import { startArmHttpsServer } from './arm-https-server';
import type { ArmReply, ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { extensionResource, ExtensionStore } from './extension-store';
import { OperationRunner, succeedEveryRun } from './long-running-operations';
import { machineSpec, MachineStore } from './machine-store';
import { attachRelay } from './relay-link';
import { RelayStore } from './relay-store';
import { routeArmRequest } from './routes';
import { supportedApiVersions } from './spec-location';
import { SupportStore } from './support-store';
import { makeServerCertificate } from './tls-certificate';
import { validateTrafficRecords } from './traffic-validator';
import type { ArmEmulator, ArmEmulatorCounters, ArmEmulatorOptions, TrafficRecord } from './types';
import { WriteThrottle } from './write-throttle';

export type {
  ArmEmulator,
  AttachedRelay,
  EmulatedRelayNamespaceSpec,
  EmulatedSupportTicketSpec,
  SupportTicketSeverity,
  SupportTicketStatus,
  ArmEmulatorCounters,
  ArmEmulatorOptions,
  EmulatedMachineSpec,
  ExtensionInstanceView,
  ExtensionRun,
  ExtensionRunKind,
  ExtensionRunResult,
  MachineLicense,
  MachineStatus,
  TrafficRecord,
} from './types';

const DEFAULT_OPERATION_MS = 30;
const DEFAULT_PAGE_SIZE = 100;

export async function startArmEmulator(options: ArmEmulatorOptions): Promise<ArmEmulator> {
  const machines = new MachineStore(options.machines);
  const relay = new RelayStore();
  for (const spec of options.relayNamespaces ?? []) relay.add(spec);
  const support = new SupportStore();
  for (const { subscriptionId, ...ticket } of options.supportTickets ?? []) support.add(subscriptionId, ticket);
  const throttle = new WriteThrottle(options.writeBucket);
  const workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arm-emulator-'));
  const certificate = await makeServerCertificate(workDir).catch(async (error: unknown) => {
    await fs.rm(workDir, { recursive: true, force: true });
    throw error;
  });
  const tokens = new TokenIssuer();
  const identity = await startArcIdentityEndpoint(tokens);

  const extensions = new ExtensionStore();
  const operations = new OperationRunner({
    operationMs: options.operationMs ?? DEFAULT_OPERATION_MS,
    runExtension: options.runExtension ?? succeedEveryRun,
    extensions,
  });
  const counters: ArmEmulatorCounters = { writes: 0, throttled: 0, conflicts: 0, unauthorized: 0 };
  const traffic: TrafficRecord[] = [];
  const recording = options.validate ?? true;

  // The handlers need the endpoint for the URLs they hand out, known only once the server listens.
  let handle: (request: ArmRequest) => ArmReply = () => ({ status: 503 });
  const server = await startArmHttpsServer(
    certificate,
    (request) => handle(request),
    (entry) => {
      if (recording) traffic.push(entry);
    },
  );
  tokens.allowAudience(server.endpoint);
  const state: EmulatorState = {
    machines,
    extensions,
    relay,
    support,
    operations,
    counters,
    tenantId: tokens.tenantId,
    principal: { objectId: tokens.objectId, upn: EMULATED_UPN },
    endpoint: server.endpoint,
    pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE,
  };
  handle = frontDoor({ tokens, throttle, apiVersions: supportedApiVersions(), counters }, (request) => routeArmRequest(state, request));

  return {
    endpoint: server.endpoint,
    caFile: certificate.caFile,
    ca: certificate.certPem,
    credentialEnvironment: () => ({
      IDENTITY_ENDPOINT: `${identity.origin}${IDENTITY_TOKEN_PATH}`,
      IMDS_ENDPOINT: identity.origin,
      NODE_EXTRA_CA_CERTS: certificate.caFile,
    }),
    credential: {
      async getToken(scopes) {
        const scope = Array.isArray(scopes) ? scopes[0] : scopes;
        const issued = tokens.issue(normaliseResource(scope ?? 'https://management.azure.com/.default'));
        return { token: issued.token, expiresOnTimestamp: issued.expiresOn * 1000, tokenType: 'Bearer' };
      },
    },
    traffic,
    counters,
    machine(subscriptionId, resourceGroup, name) {
      const machine = machines.find(subscriptionId, resourceGroup, name);
      return machine ? machineSpec(machine) : undefined;
    },
    setMachineStatus(subscriptionId, resourceGroup, name, status) {
      const machine = machines.find(subscriptionId, resourceGroup, name);
      if (!machine) throw new Error(`the emulator has no machine ${subscriptionId}/${resourceGroup}/${name}`);
      machines.setStatus(machine, status);
      if (status === 'Connected') operations.resume(machine);
    },
    setMachineLicense(subscriptionId, resourceGroup, name, license) {
      const machine = machines.find(subscriptionId, resourceGroup, name);
      if (!machine) throw new Error(`the emulator has no machine ${subscriptionId}/${resourceGroup}/${name}`);
      machine.license = license;
    },
    setWriteBucket(bucket) {
      throttle.change(bucket);
    },
    addMachine(spec) {
      machines.add(spec);
    },
    addRelayNamespace(spec) {
      relay.add(spec);
    },
    attachRelay(namespaceName, testRelay) {
      const namespace = relay.named(namespaceName);
      if (!namespace) throw new Error(`the emulator has no Relay namespace '${namespaceName}': add it with addRelayNamespace first`);
      attachRelay(namespace, testRelay);
    },
    addSupportTicket(subscriptionId, ticket) {
      support.add(subscriptionId, ticket);
    },
    setSupportTicketStatus(subscriptionId, name, status) {
      support.setStatus(subscriptionId, name, status);
    },
    setSupportTicketReadAccess(subscriptionId, allowed) {
      support.setReadAccess(subscriptionId, allowed);
    },
    extension(subscriptionId, resourceGroup, machineName, extensionName) {
      const machine = machines.find(subscriptionId, resourceGroup, machineName);
      const extension = machine ? extensions.find(machine, extensionName) : undefined;
      return extension ? extensionResource(extension) : undefined;
    },
    async validateTraffic() {
      if (!recording) return ['the emulator was started with validate: false, so it recorded no traffic to validate'];
      return validateTrafficRecords(traffic);
    },
    async close() {
      operations.close();
      await Promise.all([server.close(), identity.close()]);
      await fs.rm(workDir, { recursive: true, force: true });
    },
  };
}
