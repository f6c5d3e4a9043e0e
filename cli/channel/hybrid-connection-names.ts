/**
 * A grant's hybrid connections are named `rs-<machine>-<grant8>` (one node) or
 * `rs-<machine>-<grant8>-<node>` (a cluster), lower case, so that `status` and `cleanup-channels`
 * can tell from a name alone which machine and grant it served, and revoke can find them.
 */

export const LISTEN_RULE = 'agent-listen';
export const SEND_RULE = 'engineer-send';

export function grantTag(grantId: string): string {
  return grantId.replace(/-/g, '').slice(0, 8).toLowerCase();
}

export function hybridConnectionName(machine: string, grantId: string, node: string | undefined): string {
  const base = `rs-${machine}-${grantTag(grantId)}`;
  return (node ? `${base}-${node}` : base).toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

/** The grant tag of a hybrid connection made for this machine, or undefined when it is not one of its. */
export function grantTagOf(name: string, machine: string): string | undefined {
  const prefix = `rs-${machine}-`.toLowerCase();
  const lower = name.toLowerCase();
  if (!lower.startsWith(prefix)) return undefined;
  return /^([0-9a-f]{8})(-[a-z0-9._-]+)?$/.exec(lower.slice(prefix.length))?.[1];
}
