/** The relay client's public surface: what the agent's channel and the engineer's connect command use. */
export { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff';
export { checkEndpoint, connectUrl, hybridConnectionResource, listenUrl, type HybridConnectionEndpoint } from './endpoint';
export { RelayListener, type RelayListenerOptions, type Rendezvous } from './listener';
export { describeListenerState, type ListenerError, type ListenerState, type RefusalReason } from './listener-state';
export { proxyFor, type RelayTransport } from './open-socket';
export { chooseProxy, defaultArcAgentConfigFile, type ProxyChoice, type ProxySources } from './proxy-settings';
export { redactSecrets, REDACTED } from './redact';
export { RelayConnectError, type RelayFailureKind } from './relay-error';
export { acceptRendezvous, rejectRendezvous } from './rendezvous';
export { audienceOf, parseSas, sasExpiry, signSas, verifySas, type SasRefusal, type SasVerifyResult } from './sas';
export { connectSender, type SenderOptions } from './sender';
export { systemTimers, type Timers } from './timers';
