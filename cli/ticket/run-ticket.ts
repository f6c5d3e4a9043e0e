/**
 * `ticket`: a fresh Send token and signed ticket for a grant this owner made, from the grant's
 * private key in the owner's folder and the Send rule's key read from Azure. Refused, naming the
 * fix, when the grant has expired, when this folder has no key or record for it, or when its
 * hybrid connection is gone (revoked).
 */
import { isRestError } from '@azure/core-rest-pipeline';
import path from 'path';
import { formatUtc } from '../../core/desired-state';
import { relayClientFactory } from '../arm/relay-client';
import { armScope, defaultCredential, firstToken } from '../arm/credential';
import { makeAccessTicket } from '../channel/access-ticket';
import { GrantKeyStore } from '../channel/grant-key-store';
import { grantTag, SEND_RULE } from '../channel/hybrid-connection-names';
import { ownerHome, privateFolder, writePrivateFile } from '../channel/owner-home';
import { namespaceFromId, RelayNamespaces, type RuleKey } from '../channel/relay-namespaces';
import { InputError } from '../errors';
import { ExitCode } from '../exit-codes';
import { machineId, parseMachineArgument } from '../input/azure-names';
import { parseTimeout } from '../input/grant-duration';
import { checkAudience, checkEndpoint } from '../invocation';
import type { ResolvedIo } from '../io';

const GRANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function runTicket(options: Record<string, unknown>, io: ResolvedIo): Promise<number> {
  const text = (name: string) => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const machineText = text('machine');
  if (!machineText)
    throw new InputError(
      '--machine',
      undefined,
      'Name the Arc machine the grant was made on: --machine <name> --resource-group <rg>, or its ARM id.',
    );
  const subscriptionId = text('subscription') ?? (io.env.AZURE_SUBSCRIPTION_ID || undefined);
  const parsed = parseMachineArgument(machineText, {
    ...(subscriptionId ? { subscriptionId } : {}),
    ...(text('resourceGroup') ? { resourceGroup: text('resourceGroup') } : {}),
  });
  if (!parsed.ok) throw new InputError('--machine', machineText, parsed.reason);
  const grantId = text('grant');
  if (!grantId || !GRANT_ID.test(grantId))
    throw new InputError('--grant', grantId, 'Give the grant id (a UUID) that grant printed; status --machine shows the grant in force.');
  const endpoint = checkEndpoint(text('endpoint') ?? 'https://management.azure.com');
  const audience = text('audience') !== undefined ? checkAudience(text('audience')!) : endpoint;
  const timeoutMs = parseTimeout(text('timeout') ?? '15m');

  const store = new GrantKeyStore(ownerHome(io.env));
  const id = machineId(parsed.ref);
  const record = await store.record(grantId, id);
  const privateKey = record ? await store.privateKey(grantId).catch(() => undefined) : undefined;
  if (!record || !privateKey)
    throw new InputError(
      '--grant',
      grantId,
      `The owner's folder ${store.folder(grantId)} holds no ${record ? 'private ticket key' : 'channel record'} for this grant on ${parsed.ref.name}: it was made from another computer or account, or revoked. Issue the ticket where the grant was made, or grant again with --relay-namespace.`,
    );
  const now = io.now();
  if (Date.parse(record.expiresAt) <= now.getTime())
    throw new InputError('--grant', grantId, `That grant expired at ${record.expiresAt}; a ticket cannot outlive it. Grant access again.`);

  const credential = io.credential ?? defaultCredential();
  await firstToken(credential, armScope(audience), timeoutMs);
  const relay = new RelayNamespaces(
    relayClientFactory({ credential, endpoint, audience, ...(io.tlsCa ? { tlsCa: io.tlsCa } : {}) }),
    timeoutMs,
  );
  const namespace = namespaceFromId(record.relayNamespaceId)!;
  const sendKeys: Record<string, RuleKey> = {};
  for (const [node, hybridConnection] of Object.entries(record.nodes)) {
    try {
      sendKeys[node] = await relay.ruleKey(namespace, hybridConnection, SEND_RULE);
    } catch (error) {
      if (isRestError(error) && error.statusCode === 404)
        throw new InputError(
          '--grant',
          grantId,
          `The hybrid connection ${hybridConnection} of node ${node} is gone from ${namespace.name}: the grant was revoked or its channel cleaned up. Grant access again.`,
        );
      throw error;
    }
  }
  const ticket = await makeAccessTicket({
    record,
    privateKey,
    sendKeys,
    engineer: text('engineer') ?? `support-request:${record.supportRequestId}`,
    now,
  });
  const file = text('ticketFile')
    ? path.resolve(io.cwd, text('ticketFile')!)
    : path.join(await privateFolder(path.join(ownerHome(io.env), 'tickets')), `${record.machine}-${grantTag(grantId)}.json`);
  await writePrivateFile(file, `${JSON.stringify(ticket, null, 2)}\n`);
  if (options.showTicket === true) io.stdout.write(`${JSON.stringify(ticket, null, 2)}\n`);
  io.stderr.write(
    `Access ticket for ${record.machine} (grant ${grantId}, ${record.level}, node(s) ${Object.keys(record.nodes).join(', ')}) valid until ${formatUtc(new Date(ticket.expiresAt))}: ${file}\n` +
      'It holds bearer tokens: hand it to the engineer privately. The engineer runs: arc-remote-support connect --ticket <file>\n',
  );
  return ExitCode.Success;
}
