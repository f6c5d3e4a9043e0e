/** Which handler answers which ARM path and method; names in paths match case-insensitively, as in ARM. */
import { armError, type ArmReply, type ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { deleteExtension, getExtension, listExtensions, patchExtension, putExtension, upgradeExtensions } from './extension-handlers';
import {
  getLicenseProfile,
  getMachine,
  listLicenseProfiles,
  listMachinesByResourceGroup,
  listMachinesBySubscription,
} from './machine-handlers';
import { getOperationResult, getOperationStatus } from './operation-handlers';
import {
  deleteHybridConnection,
  getHybridConnection,
  getHybridConnectionRule,
  getRelayNamespace,
  listHybridConnectionKeys,
  listHybridConnectionRules,
  listHybridConnections,
  listRelayNamespacesByResourceGroup,
  listRelayNamespacesBySubscription,
  putHybridConnection,
  putHybridConnectionRule,
  regenerateHybridConnectionKeys,
} from './relay-handlers';
import { getSupportTicket, listSupportTickets } from './support-handlers';

type Handler = (state: EmulatorState, request: ArmRequest, params: string[]) => ArmReply;

interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

const SEGMENT = '([^/]+)';
const PROVIDER = '/providers/Microsoft\\.HybridCompute';
const SUBSCRIPTION = `^/subscriptions/${SEGMENT}`;
const MACHINE = `${SUBSCRIPTION}/resourceGroups/${SEGMENT}${PROVIDER}/machines/${SEGMENT}`;
const RELAY = '/providers/Microsoft\\.Relay';
const NAMESPACE = `${SUBSCRIPTION}/resourceGroups/${SEGMENT}${RELAY}/namespaces/${SEGMENT}`;
const HYBRID_CONNECTION = `${NAMESPACE}/hybridConnections/${SEGMENT}`;
const HC_RULE = `${HYBRID_CONNECTION}/authorizationRules/${SEGMENT}`;
const SUPPORT_TICKETS = `${SUBSCRIPTION}/providers/Microsoft\\.Support/supportTickets`;

function route(pattern: string, methods: Route['methods']): Route {
  return { pattern: new RegExp(`${pattern}$`, 'i'), methods };
}

const RESOURCE_ROUTES: Route[] = [
  route(`${SUBSCRIPTION}${PROVIDER}/machines`, { GET: listMachinesBySubscription }),
  route(`${SUBSCRIPTION}/resourceGroups/${SEGMENT}${PROVIDER}/machines`, { GET: listMachinesByResourceGroup }),
  route(MACHINE, { GET: getMachine }),
  route(`${MACHINE}/licenseProfiles`, { GET: listLicenseProfiles }),
  route(`${MACHINE}/licenseProfiles/${SEGMENT}`, { GET: getLicenseProfile }),
  route(`${MACHINE}/extensions`, { GET: listExtensions }),
  route(`${MACHINE}/extensions/${SEGMENT}`, { GET: getExtension, PUT: putExtension, PATCH: patchExtension, DELETE: deleteExtension }),
  route(`${MACHINE}/upgradeExtensions`, { POST: upgradeExtensions }),
  route(`${SUBSCRIPTION}${RELAY}/namespaces`, { GET: listRelayNamespacesBySubscription }),
  route(`${SUBSCRIPTION}/resourceGroups/${SEGMENT}${RELAY}/namespaces`, { GET: listRelayNamespacesByResourceGroup }),
  route(NAMESPACE, { GET: getRelayNamespace }),
  route(`${NAMESPACE}/hybridConnections`, { GET: listHybridConnections }),
  route(HYBRID_CONNECTION, { GET: getHybridConnection, PUT: putHybridConnection, DELETE: deleteHybridConnection }),
  route(`${HYBRID_CONNECTION}/authorizationRules`, { GET: listHybridConnectionRules }),
  route(HC_RULE, { GET: getHybridConnectionRule, PUT: putHybridConnectionRule }),
  route(`${HC_RULE}/listKeys`, { POST: listHybridConnectionKeys }),
  route(`${HC_RULE}/regenerateKeys`, { POST: regenerateHybridConnectionKeys }),
  route(SUPPORT_TICKETS, { GET: listSupportTickets }),
  route(`${SUPPORT_TICKETS}/${SEGMENT}`, { GET: getSupportTicket }),
];

/** Polling URLs the emulator hands out; the API document has no path for them. */
const OPERATION_ROUTES: Route[] = [
  route(`${SUBSCRIPTION}${PROVIDER}/locations/${SEGMENT}/operationStatus/${SEGMENT}`, { GET: getOperationStatus }),
  route(`${SUBSCRIPTION}${PROVIDER}/locations/${SEGMENT}/operationResults/${SEGMENT}`, { GET: getOperationResult }),
];

const ROUTES = [...RESOURCE_ROUTES, ...OPERATION_ROUTES];

export function routeArmRequest(state: EmulatorState, request: ArmRequest): ArmReply {
  for (const { pattern, methods } of ROUTES) {
    const match = pattern.exec(request.path);
    if (!match) continue;
    const handler = methods[request.method];
    if (!handler) {
      return armError(
        405,
        'MethodNotAllowed',
        `The emulator does not support http method '${request.method}' on '${request.path}'; it supports ${Object.keys(methods).join(', ')}.`,
      );
    }
    return handler(
      state,
      request,
      match.slice(1).map((segment) => segment ?? ''),
    );
  }
  return armError(
    404,
    'InvalidResourceType',
    `The emulator has no resource at '${request.path}' (it serves Microsoft.HybridCompute machines, license profiles and machine extensions; Microsoft.Relay namespaces, hybrid connections and their authorization rules; Microsoft.Support tickets at subscription scope).`,
  );
}

export function isOperationPollingPath(path: string): boolean {
  return OPERATION_ROUTES.some(({ pattern }) => pattern.test(path));
}
