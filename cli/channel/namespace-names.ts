/**
 * Relay namespace names and ids, checked offline (no Azure SDK loaded): `--relay-namespace` is
 * parsed before anything talks to Azure.
 */
import { InputError } from '../errors';

export interface RelayNamespaceRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const NAMESPACE_NAME = /^[A-Za-z][A-Za-z0-9-]{4,48}[A-Za-z0-9]$/;
const NAMESPACE_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Relay\/namespaces\/([^/]+)$/i;

export function namespaceId(ref: RelayNamespaceRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Relay/namespaces/${ref.name}`;
}

/** `--relay-namespace`: a namespace name (6 to 50 letters, digits, hyphens) or its ARM id. */
export function parseNamespaceArgument(text: string, option: string): { name: string; subscriptionId?: string; resourceGroup?: string } {
  const id = NAMESPACE_ID.exec(text.trim());
  if (id) return { subscriptionId: id[1]!.toLowerCase(), resourceGroup: id[2]!, name: id[3]! };
  const name = text.trim().replace(/\.servicebus\.windows\.net$/i, '');
  if (NAMESPACE_NAME.test(name)) return { name };
  throw new InputError(
    option,
    text,
    'Give the relay namespace name (6 to 50 letters, digits and hyphens, starting with a letter) or its ARM id /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Relay/namespaces/<name>.',
  );
}

/** A namespace ref from its ARM id (the public settings' channel marker). */
export function namespaceFromId(id: string): RelayNamespaceRef | undefined {
  const match = NAMESPACE_ID.exec(id);
  return match ? { subscriptionId: match[1]!.toLowerCase(), resourceGroup: match[2]!, name: match[3]! } : undefined;
}
