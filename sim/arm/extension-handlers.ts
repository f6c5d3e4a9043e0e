/**
 * Machine extensions: MachineExtensions_Get/List/CreateOrUpdate/Update/Delete and UpgradeExtensions.
 * Every write is a long-running operation answered 202 with Azure-AsyncOperation and Location (the
 * 2024-07-10 document allows 200 or 202 for PUT, not 201), and is refused with 409 while another
 * operation holds the machine's extensions.
 */
import { armError, ok, type ArmReply, type ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { extensionResource, type StoredExtension } from './extension-store';
import { operationResultPath, operationStatusPath, type LongRunningOperation, type OperationStep } from './long-running-operations';
import { lookupMachine, resourceNotFound } from './lookups';
import type { MachineRecord } from './machine-store';

/** Properties the service sets; a client that echoes them back does not change them. */
const READ_ONLY_PROPERTIES = ['provisioningState', 'instanceView'];

export function getExtension(
  state: EmulatorState,
  _request: ArmRequest,
  [subscriptionId, resourceGroup, machineName, name]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, machineName!);
  if (machine.reply) return machine.reply;
  const extension = state.extensions.find(machine.found, name!);
  return extension ? ok(extensionResource(extension)) : extensionNotFound(machine.found, name!);
}

export function listExtensions(
  state: EmulatorState,
  _request: ArmRequest,
  [subscriptionId, resourceGroup, machineName]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, machineName!);
  if (machine.reply) return machine.reply;
  return ok({ value: state.extensions.list(machine.found).map(extensionResource) });
}

/** PUT: create, or replace the whole configuration (protected settings included: absent means none). */
export function putExtension(
  state: EmulatorState,
  request: ArmRequest,
  [subscriptionId, resourceGroup, machineName, name]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, machineName!);
  if (machine.reply) return machine.reply;
  const busy = conflict(state, machine.found);
  if (busy) return busy;
  const body = request.body as { location?: unknown; tags?: Record<string, string>; properties?: Record<string, unknown> } | undefined;
  const properties = body?.properties;
  if (!isObject(body) || !isObject(properties)) return invalidContent("The request body must be an extension with a 'properties' object.");
  if (typeof body.location !== 'string' || body.location === '')
    return armError(400, 'LocationRequired', 'The location property is required for this definition.');
  const shapeProblem = settingsProblem(properties);
  if (shapeProblem) return invalidContent(shapeProblem);
  if (typeof properties.publisher !== 'string' || typeof properties.type !== 'string') {
    return armError(400, 'InvalidParameter', "The extension's 'properties.publisher' and 'properties.type' are required.");
  }

  const existing = state.extensions.find(machine.found, name!);
  if (existing) {
    const changed = (['publisher', 'type'] as const).find(
      (key) => String(existing.configuration[key]).toLowerCase() !== String(properties[key]).toLowerCase(),
    );
    if (changed)
      return armError(
        400,
        'PropertyChangeNotAllowed',
        `Changing property '${changed}' is not allowed for existing extension '${existing.name}'.`,
      );
  }
  const previous = existing ? structuredClone(existing.configuration) : null;
  const extension: StoredExtension = {
    machine: machine.found,
    name: existing?.name ?? name!,
    location: body.location,
    tags: body.tags,
    configuration: { enableAutomaticUpgrade: false, autoUpgradeMinorVersion: false, ...writable(properties) },
    provisioningState: existing ? 'Updating' : 'Creating',
    instanceView: existing?.instanceView,
  };
  state.extensions.save(extension);
  return accepted(state, request, state.operations.start(machine.found, existing ? 'update' : 'create', [{ extension, previous }]));
}

/**
 * PATCH: the properties sent replace those stored. Protected settings are write-only and Azure does
 * not keep them across an update: a PATCH without them leaves the extension without them.
 */
export function patchExtension(
  state: EmulatorState,
  request: ArmRequest,
  [subscriptionId, resourceGroup, machineName, name]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, machineName!);
  if (machine.reply) return machine.reply;
  const extension = state.extensions.find(machine.found, name!);
  if (!extension) return extensionNotFound(machine.found, name!);
  const busy = conflict(state, machine.found);
  if (busy) return busy;
  const body = request.body as { tags?: Record<string, string>; properties?: Record<string, unknown> } | undefined;
  if (!isObject(body) || (body.properties !== undefined && !isObject(body.properties)))
    return invalidContent("The request body must be an extension update with a 'properties' object.");
  const properties = body.properties ?? {};
  const shapeProblem = settingsProblem(properties);
  if (shapeProblem) return invalidContent(shapeProblem);

  const previous = structuredClone(extension.configuration);
  const { protectedSettings: _dropped, ...kept } = extension.configuration;
  extension.configuration = { ...kept, ...writable(properties) };
  if (body.tags !== undefined) extension.tags = body.tags;
  extension.provisioningState = 'Updating';
  return accepted(state, request, state.operations.start(machine.found, 'update', [{ extension, previous }]));
}

/** DELETE: 202 and an operation; a missing extension is already deleted (204), as in ARM. */
export function deleteExtension(
  state: EmulatorState,
  request: ArmRequest,
  [subscriptionId, resourceGroup, machineName, name]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, machineName!);
  if (machine.reply) return machine.reply;
  const busy = conflict(state, machine.found);
  if (busy) return busy;
  const extension = state.extensions.find(machine.found, name!);
  if (!extension) return { status: 204 };
  extension.provisioningState = 'Deleting';
  return accepted(
    state,
    request,
    state.operations.start(machine.found, 'delete', [{ extension, previous: structuredClone(extension.configuration) }]),
  );
}

/** POST upgradeExtensions: `extensionTargets: { "<Publisher>.<Type>": { targetVersion } }`, one operation for all. */
export function upgradeExtensions(
  state: EmulatorState,
  request: ArmRequest,
  [subscriptionId, resourceGroup, machineName]: string[],
): ArmReply {
  const machine = lookupMachine(state, subscriptionId!, resourceGroup!, machineName!);
  if (machine.reply) return machine.reply;
  const busy = conflict(state, machine.found);
  if (busy) return busy;
  const targets = (request.body as { extensionTargets?: unknown } | undefined)?.extensionTargets;
  if (!isObject(targets) || Object.keys(targets).length === 0)
    return invalidContent("The request body needs 'extensionTargets' naming at least one '<Publisher>.<Type>'.");

  const steps: Array<OperationStep & { targetVersion: string }> = [];
  for (const [publisherAndType, target] of Object.entries(targets)) {
    const targetVersion = isObject(target) ? target.targetVersion : undefined;
    if (typeof targetVersion !== 'string' || targetVersion === '')
      return armError(400, 'InvalidParameter', `The extension target '${publisherAndType}' needs a 'targetVersion'.`);
    const matching = state.extensions.list(machine.found).filter((extension) => sameType(extension, publisherAndType));
    if (matching.length === 0)
      return armError(400, 'InvalidParameter', `No extension '${publisherAndType}' is installed on machine '${machine.found.name}'.`);
    for (const extension of matching) steps.push({ extension, previous: structuredClone(extension.configuration), targetVersion });
  }
  for (const { extension, targetVersion } of steps) {
    extension.configuration = { ...extension.configuration, typeHandlerVersion: targetVersion };
    extension.provisioningState = 'Updating';
  }
  return accepted(state, request, state.operations.start(machine.found, 'upgrade', steps));
}

/** ARM's answer to a write it started: the operation to poll, and where the outcome will be. */
function accepted(state: EmulatorState, request: ArmRequest, operation: LongRunningOperation): ArmReply {
  const query = `?api-version=${encodeURIComponent(request.query.get('api-version') ?? '')}`;
  return {
    status: 202,
    headers: {
      'Azure-AsyncOperation': `${state.endpoint}${operationStatusPath(operation)}${query}`,
      Location: `${state.endpoint}${operationResultPath(operation)}${query}`,
    },
  };
}

function conflict(state: EmulatorState, machine: MachineRecord): ArmReply | undefined {
  const running = state.operations.inProgressOn(machine);
  if (!running) return undefined;
  state.counters.conflicts += 1;
  const names = running.steps.map((step) => step.extension.name).join(', ');
  return armError(
    409,
    'Conflict',
    `An operation (${running.kind}) is in progress on extension ${names} of machine ${machine.name}; retry after it finishes.`,
  );
}

function extensionNotFound(machine: MachineRecord, name: string): ArmReply {
  return resourceNotFound(`Microsoft.HybridCompute/machines/${machine.name}/extensions/${name}`, machine.resourceGroup);
}

function invalidContent(message: string): ArmReply {
  return armError(400, 'InvalidRequestContent', message);
}

/** ARM cannot read settings that are not JSON objects; it refuses the request. */
function settingsProblem(properties: Record<string, unknown>): string | undefined {
  for (const key of ['settings', 'protectedSettings']) {
    const value = properties[key];
    if (value !== undefined && value !== null && !isObject(value))
      return `The value of 'properties.${key}' must be a JSON object, not ${JSON.stringify(value)}.`;
  }
  return undefined;
}

function writable(properties: Record<string, unknown>): Record<string, any> {
  const copy: Record<string, any> = structuredClone(properties);
  for (const key of READ_ONLY_PROPERTIES) delete copy[key];
  return copy;
}

function sameType(extension: StoredExtension, publisherAndType: string): boolean {
  return `${extension.configuration.publisher}.${extension.configuration.type}`.toLowerCase() === publisherAndType.toLowerCase();
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
