/**
 * The namespace's entities as ARM would configure them: hybrid connections (with their rules, their
 * enabled state, and what is live on each) and the namespace's own rules. Names are compared without
 * letter case, as Azure compares entity names.
 */
import { TEXT } from './handshake';
import type { AuthorizationRule, RelayRight, RuleScope } from './types';

/** A socket the relay holds open: it can close it, or stop answering it (a fault). */
export interface LiveSocket {
  close(code: number, reason: string): void;
  dropSilently(): void;
}
/** A listener's control channel, to which the relay sends `accept` messages. */
export interface ListenerSocket extends LiveSocket {
  sendAccept(message: unknown): boolean;
}
/** A sender whose upgrade waits for a listener. */
export interface WaitingSender {
  refuse(status: number, text: string): void;
  dropSilently(): void;
}

export class HybridConnection {
  readonly rules = new Map<string, AuthorizationRule>();
  readonly listeners = new Set<ListenerSocket>();
  readonly pairs = new Set<LiveSocket>();
  readonly waitingSenders = new Set<WaitingSender>();
  disabled = false;

  constructor(
    readonly name: string,
    readonly requiresClientAuthorization: boolean,
  ) {}

  /** The service's behaviour on delete or disable: 1001 on every socket, waiting senders refused. */
  endEverything(reason: string, senderStatus: number, senderText: string): void {
    for (const listener of [...this.listeners]) listener.close(1001, reason);
    for (const pair of [...this.pairs]) pair.close(1001, reason);
    for (const sender of [...this.waitingSenders]) sender.refuse(senderStatus, senderText);
  }
}

const ENTITY_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,258}[A-Za-z0-9])?$/;
const RULE_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/;
const RIGHTS: readonly RelayRight[] = ['Listen', 'Send', 'Manage'];

export class RelayNamespace {
  private readonly entities = new Map<string, HybridConnection>();
  private readonly namespaceRules = new Map<string, AuthorizationRule>();

  find(name: string): HybridConnection | undefined {
    return this.entities.get(name.toLowerCase());
  }

  all(): HybridConnection[] {
    return [...this.entities.values()];
  }

  create(name: string, options: { requiresClientAuthorization?: boolean } = {}): void {
    if (typeof name !== 'string' || !ENTITY_NAME.test(name)) {
      throw new Error(
        `hybrid connection name '${String(name)}' is not valid: use 1 to 260 letters, digits, '.', '-' or '_', starting and ending with a letter or digit`,
      );
    }
    if (this.find(name)) throw new Error(`hybrid connection '${name}' already exists: delete it first, or use another name`);
    this.entities.set(name.toLowerCase(), new HybridConnection(name, options.requiresClientAuthorization ?? true));
  }

  delete(name: string): void {
    const entity = this.existing(name);
    this.entities.delete(entity.name.toLowerCase());
    entity.endEverything('The hybrid connection was deleted', 404, TEXT.noEndpoint);
  }

  setDisabled(name: string, disabled: boolean): void {
    const entity = this.existing(name);
    entity.disabled = disabled;
    if (disabled) entity.endEverything('The hybrid connection was disabled', 403, disabledText(entity.name));
  }

  putRule(scope: RuleScope, rule: AuthorizationRule): void {
    checkRule(rule);
    const rules = scope.hybridConnection === undefined ? this.namespaceRules : this.existing(scope.hybridConnection).rules;
    rules.set(rule.name, { name: rule.name, rights: [...rule.rights], primaryKey: rule.primaryKey, secondaryKey: rule.secondaryKey });
  }

  /** The rules a token naming keyName could have been signed with, for this hybrid connection. */
  rulesNamed(entity: HybridConnection, keyName: string): AuthorizationRule[] {
    return [entity.rules.get(keyName), this.namespaceRules.get(keyName)].filter((rule): rule is AuthorizationRule => rule !== undefined);
  }

  private existing(name: string): HybridConnection {
    const entity = this.find(name);
    if (!entity) throw new Error(`hybrid connection '${name}' does not exist: create it with createHybridConnection first`);
    return entity;
  }
}

export function disabledText(name: string): string {
  return `EntityDisabled: the hybrid connection '${name}' is disabled`;
}

function checkRule(rule: AuthorizationRule): void {
  if (typeof rule.name !== 'string' || !RULE_NAME.test(rule.name)) {
    throw new Error(
      `rule name '${String(rule.name)}' is not valid: use 1 to 256 letters, digits, '.', '-' or '_', starting and ending with a letter or digit`,
    );
  }
  if (!Array.isArray(rule.rights) || rule.rights.length === 0 || rule.rights.some((right) => !RIGHTS.includes(right))) {
    throw new Error(`rule '${rule.name}': rights ${JSON.stringify(rule.rights)} are not valid: give one or more of ${RIGHTS.join(', ')}`);
  }
  for (const [field, key] of [
    ['primaryKey', rule.primaryKey],
    ['secondaryKey', rule.secondaryKey],
  ] as const) {
    if (field === 'secondaryKey' && key === undefined) continue;
    // The key's value is a secret: the error names the field, never the value.
    if (typeof key !== 'string' || key.length === 0 || key.length > 256)
      throw new Error(`rule '${rule.name}': ${field} must be a string of 1 to 256 characters`);
  }
}
