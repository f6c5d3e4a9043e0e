/**
 * Microsoft.Relay through ARM: namespaces (read: Namespaces_Get, _List, _ListByResourceGroup), hybrid
 * connections (HybridConnections_CreateOrUpdate, _Get, _Delete, _ListByNamespace) and their
 * authorization rules (_CreateOrUpdateAuthorizationRule, _GetAuthorizationRule,
 * _ListAuthorizationRules, _ListKeys, _RegenerateKeys). Writes reach an attached test relay.
 *
 * Where the service's behaviour is not in the document, the emulator chose:
 * - requiresClientAuthorization is fixed when a hybrid connection is created: changing it is 400
 *   PropertyChangeNotAllowed (delete and create again);
 * - a rule's Manage right needs Listen and Send beside it, as Service Bus requires (400 otherwise);
 * - lists come whole, without nextLink (a namespace holds few hybrid connections and rules).
 */
import { armError, ok, type ArmReply, type ArmRequest } from './arm-reply';
import type { EmulatorState } from './emulator-state';
import { parentResourceNotFound, resourceGroupMissing, resourceNotFound, subscriptionMissing, type Lookup } from './lookups';
import { hybridConnectionCreated, hybridConnectionDeleted, ruleWritten } from './relay-link';
import { accessKeys, hybridConnectionResource, hybridConnectionRuleResource, relayNamespaceResource } from './relay-resource';
import { newRelayKey, type HybridConnectionRecord, type RelayNamespaceRecord, type RelayRuleRecord } from './relay-store';
import type { RelayRight } from '../relay';

/** The relay's limits on entity and rule names (sim/relay enforces the same). */
const HYBRID_CONNECTION_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,258}[A-Za-z0-9])?$/;
const RULE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/;
const RIGHTS: readonly RelayRight[] = ['Listen', 'Send', 'Manage'];
/** The service's limit on userMetadata. */
const MAX_USER_METADATA = 1024;
const MAX_KEY_LENGTH = 256;

export function getRelayNamespace(state: EmulatorState, _request: ArmRequest, [subscriptionId, resourceGroup, name]: string[]): ArmReply {
  const namespace = lookupNamespace(state, subscriptionId!, resourceGroup!, name!, false);
  return namespace.reply ?? ok(relayNamespaceResource(namespace.found));
}

export function listRelayNamespacesBySubscription(state: EmulatorState, _request: ArmRequest, [subscriptionId]: string[]): ArmReply {
  return subscriptionMissing(state, subscriptionId!) ?? ok({ value: state.relay.list(subscriptionId!).map(relayNamespaceResource) });
}

export function listRelayNamespacesByResourceGroup(
  state: EmulatorState,
  _request: ArmRequest,
  [subscriptionId, resourceGroup]: string[],
): ArmReply {
  return (
    resourceGroupMissing(state, subscriptionId!, resourceGroup!) ??
    ok({ value: state.relay.list(subscriptionId!, resourceGroup!).map(relayNamespaceResource) })
  );
}

export function listHybridConnections(
  state: EmulatorState,
  _request: ArmRequest,
  [subscriptionId, resourceGroup, name]: string[],
): ArmReply {
  const namespace = lookupNamespace(state, subscriptionId!, resourceGroup!, name!, true);
  if (namespace.reply) return namespace.reply;
  return ok({
    value: [...namespace.found.hybridConnections.values()].map((hybridConnection) =>
      hybridConnectionResource(namespace.found, hybridConnection),
    ),
  });
}

export function getHybridConnection(state: EmulatorState, _request: ArmRequest, params: string[]): ArmReply {
  const found = lookupHybridConnection(state, params, false);
  return found.reply ?? ok(hybridConnectionResource(found.found.namespace, found.found.hybridConnection));
}

export function putHybridConnection(
  state: EmulatorState,
  request: ArmRequest,
  [subscriptionId, resourceGroup, name, hcName]: string[],
): ArmReply {
  const namespace = lookupNamespace(state, subscriptionId!, resourceGroup!, name!, true);
  if (namespace.reply) return namespace.reply;
  if (!HYBRID_CONNECTION_NAME.test(hcName!)) {
    return armError(
      400,
      'InvalidResourceName',
      `The hybrid connection name '${hcName}' is not valid: use 1 to 260 letters, digits, '.', '-' or '_', starting and ending with a letter or digit.`,
    );
  }
  const body = readHybridConnectionBody(request.body);
  if ('reply' in body) return body.reply;

  const now = new Date().toISOString();
  const existing = namespace.found.hybridConnections.get(hcName!.toLowerCase());
  if (existing) {
    if (body.requiresClientAuthorization !== undefined && body.requiresClientAuthorization !== existing.requiresClientAuthorization) {
      return armError(
        400,
        'PropertyChangeNotAllowed',
        `Changing property 'properties.requiresClientAuthorization' (to ${body.requiresClientAuthorization}) is not allowed for existing hybrid connection '${existing.name}': delete it and create it again.`,
      );
    }
    existing.userMetadata = body.userMetadata;
    existing.updatedAt = now;
    return ok(hybridConnectionResource(namespace.found, existing));
  }
  const created: HybridConnectionRecord = {
    name: hcName!,
    requiresClientAuthorization: body.requiresClientAuthorization ?? true,
    userMetadata: body.userMetadata,
    createdAt: now,
    updatedAt: now,
    rules: new Map(),
  };
  hybridConnectionCreated(namespace.found, created);
  namespace.found.hybridConnections.set(created.name.toLowerCase(), created);
  return ok(hybridConnectionResource(namespace.found, created));
}

/** 200 when it was there, 204 when it was not (the document's two answers). */
export function deleteHybridConnection(
  state: EmulatorState,
  _request: ArmRequest,
  [subscriptionId, resourceGroup, name, hcName]: string[],
): ArmReply {
  const namespace = lookupNamespace(state, subscriptionId!, resourceGroup!, name!, true);
  if (namespace.reply) return namespace.reply;
  const existing = namespace.found.hybridConnections.get(hcName!.toLowerCase());
  if (!existing) return { status: 204 };
  namespace.found.hybridConnections.delete(existing.name.toLowerCase());
  hybridConnectionDeleted(namespace.found, existing);
  return { status: 200 };
}

export function listHybridConnectionRules(state: EmulatorState, _request: ArmRequest, params: string[]): ArmReply {
  const found = lookupHybridConnection(state, params, true);
  if (found.reply) return found.reply;
  const { namespace, hybridConnection } = found.found;
  return ok({ value: [...hybridConnection.rules.values()].map((rule) => hybridConnectionRuleResource(namespace, hybridConnection, rule)) });
}

export function getHybridConnectionRule(state: EmulatorState, _request: ArmRequest, params: string[]): ArmReply {
  const found = lookupRule(state, params);
  if (found.reply) return found.reply;
  const { namespace, hybridConnection, rule } = found.found;
  return ok(hybridConnectionRuleResource(namespace, hybridConnection, rule));
}

/** A new rule gets two new keys; an existing one keeps its keys and takes the new rights. */
export function putHybridConnectionRule(state: EmulatorState, request: ArmRequest, params: string[]): ArmReply {
  const found = lookupHybridConnection(state, params, true);
  if (found.reply) return found.reply;
  const { namespace, hybridConnection } = found.found;
  const ruleName = params[4]!;
  if (!RULE_NAME.test(ruleName)) {
    return armError(
      400,
      'InvalidResourceName',
      `The authorization rule name '${ruleName}' is not valid: use 1 to 256 letters, digits, '.', '-' or '_', starting and ending with a letter or digit.`,
    );
  }
  const rights = readRights(request.body);
  if (!Array.isArray(rights)) return rights.reply;

  const now = new Date().toISOString();
  const existing = hybridConnection.rules.get(ruleName.toLowerCase());
  const rule: RelayRuleRecord = existing
    ? { ...existing, rights, updatedAt: now }
    : { name: ruleName, rights, primaryKey: newRelayKey(), secondaryKey: newRelayKey(), createdAt: now, updatedAt: now };
  ruleWritten(namespace, hybridConnection, rule);
  hybridConnection.rules.set(rule.name.toLowerCase(), rule);
  return ok(hybridConnectionRuleResource(namespace, hybridConnection, rule));
}

export function listHybridConnectionKeys(state: EmulatorState, _request: ArmRequest, params: string[]): ArmReply {
  const found = lookupRule(state, params);
  if (found.reply) return found.reply;
  const { namespace, hybridConnection, rule } = found.found;
  return ok(accessKeys(namespace, hybridConnection, rule));
}

/** Replaces one key (with the one given, or a new random one); tokens signed with the old key stop working at once. */
export function regenerateHybridConnectionKeys(state: EmulatorState, request: ArmRequest, params: string[]): ArmReply {
  const found = lookupRule(state, params);
  if (found.reply) return found.reply;
  const { namespace, hybridConnection, rule } = found.found;
  const body = request.body as { keyType?: unknown; key?: unknown } | undefined;
  if (!isObject(body) || (body.keyType !== 'PrimaryKey' && body.keyType !== 'SecondaryKey')) {
    return invalidContent(
      `The request's 'keyType' is ${describeValue(isObject(body) ? body.keyType : undefined)}: give 'PrimaryKey' or 'SecondaryKey'.`,
    );
  }
  if (body.key !== undefined && (typeof body.key !== 'string' || body.key.length === 0 || body.key.length > MAX_KEY_LENGTH)) {
    // The key is a secret: the message describes it, never repeats it.
    return invalidContent(`The request's 'key' must be a string of 1 to ${MAX_KEY_LENGTH} characters, or left out for a new random key.`);
  }
  const key = (body.key as string | undefined) ?? newRelayKey();
  const updated: RelayRuleRecord = {
    ...rule,
    ...(body.keyType === 'PrimaryKey' ? { primaryKey: key } : { secondaryKey: key }),
    updatedAt: new Date().toISOString(),
  };
  ruleWritten(namespace, hybridConnection, updated);
  hybridConnection.rules.set(updated.name.toLowerCase(), updated);
  return ok(accessKeys(namespace, hybridConnection, updated));
}

function lookupNamespace(
  state: EmulatorState,
  subscriptionId: string,
  resourceGroup: string,
  name: string,
  asParent: boolean,
): Lookup<RelayNamespaceRecord> {
  const noGroup = resourceGroupMissing(state, subscriptionId, resourceGroup);
  if (noGroup) return { reply: noGroup };
  const namespace = state.relay.find(subscriptionId, resourceGroup, name);
  if (namespace) return { found: namespace };
  return { reply: asParent ? parentResourceNotFound(name) : resourceNotFound(`Microsoft.Relay/namespaces/${name}`, resourceGroup) };
}

interface FoundHybridConnection {
  namespace: RelayNamespaceRecord;
  hybridConnection: HybridConnectionRecord;
}

function lookupHybridConnection(
  state: EmulatorState,
  [subscriptionId, resourceGroup, name, hcName]: string[],
  asParent: boolean,
): Lookup<FoundHybridConnection> {
  const namespace = lookupNamespace(state, subscriptionId!, resourceGroup!, name!, true);
  if (namespace.reply) return namespace;
  const hybridConnection = namespace.found.hybridConnections.get(hcName!.toLowerCase());
  if (hybridConnection) return { found: { namespace: namespace.found, hybridConnection } };
  return {
    reply: asParent
      ? parentResourceNotFound(`${namespace.found.name}/${hcName}`)
      : resourceNotFound(`Microsoft.Relay/namespaces/${namespace.found.name}/hybridConnections/${hcName}`, resourceGroup!),
  };
}

function lookupRule(state: EmulatorState, params: string[]): Lookup<FoundHybridConnection & { rule: RelayRuleRecord }> {
  const found = lookupHybridConnection(state, params, true);
  if (found.reply) return found;
  const ruleName = params[4]!;
  const rule = found.found.hybridConnection.rules.get(ruleName.toLowerCase());
  if (rule) return { found: { ...found.found, rule } };
  const { namespace, hybridConnection } = found.found;
  return {
    reply: resourceNotFound(
      `Microsoft.Relay/namespaces/${namespace.name}/hybridConnections/${hybridConnection.name}/authorizationRules/${ruleName}`,
      params[1]!,
    ),
  };
}

/** The writable properties of a hybrid connection; read-only ones a client echoes back are ignored, as ARM does. */
function readHybridConnectionBody(body: unknown): { requiresClientAuthorization?: boolean; userMetadata?: string } | { reply: ArmReply } {
  if (!isObject(body))
    return { reply: invalidContent(`The request body is ${describeValue(body)}: give a JSON object such as {"properties": {}}.`) };
  const properties = body.properties ?? {};
  if (!isObject(properties))
    return { reply: invalidContent(`The request's 'properties' is ${describeValue(properties)}: give a JSON object.`) };
  const known = new Set(['requiresClientAuthorization', 'userMetadata', 'createdAt', 'updatedAt', 'listenerCount']);
  const unknown = Object.keys(properties).find((key) => !known.has(key));
  if (unknown !== undefined) {
    return {
      reply: invalidContent(
        `The request's 'properties.${unknown}' is not a property of a hybrid connection: give only requiresClientAuthorization and userMetadata.`,
      ),
    };
  }
  const { requiresClientAuthorization, userMetadata } = properties;
  if (requiresClientAuthorization !== undefined && typeof requiresClientAuthorization !== 'boolean') {
    return {
      reply: invalidContent(
        `The request's 'properties.requiresClientAuthorization' is ${describeValue(requiresClientAuthorization)}: give true or false.`,
      ),
    };
  }
  if (userMetadata !== undefined && (typeof userMetadata !== 'string' || userMetadata.length > MAX_USER_METADATA)) {
    return {
      reply: invalidContent(
        `The request's 'properties.userMetadata' is ${describeValue(userMetadata)}: give a string of at most ${MAX_USER_METADATA} characters.`,
      ),
    };
  }
  return { requiresClientAuthorization, userMetadata };
}

function readRights(body: unknown): RelayRight[] | { reply: ArmReply } {
  const rights = isObject(body) && isObject(body.properties) ? body.properties.rights : undefined;
  if (!Array.isArray(rights) || rights.length === 0 || rights.some((right) => !RIGHTS.includes(right as RelayRight))) {
    return {
      reply: invalidContent(`The request's 'properties.rights' is ${describeValue(rights)}: give one or more of ${RIGHTS.join(', ')}.`),
    };
  }
  const unique = [...new Set(rights as RelayRight[])];
  if (unique.includes('Manage') && !(unique.includes('Listen') && unique.includes('Send'))) {
    return {
      reply: invalidContent(
        `The request's 'properties.rights' is ${JSON.stringify(rights)}: the Manage right needs Listen and Send as well.`,
      ),
    };
  }
  return unique;
}

function invalidContent(message: string): ArmReply {
  return armError(400, 'InvalidRequestContent', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
