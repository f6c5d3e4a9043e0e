/** The session layer's public surface: what the agent's channel and the engineer's connect command use. */
export { DEFAULT_MAX_JTI_ENTRIES, FileJtiStore, JTI_FILE_NAME, MemoryJtiStore, type JtiStore, type JtiUse } from './jti-store';
export * from './protocol';
export {
  SessionHost,
  type CommandExecutor,
  type CommandOutcome,
  type CommandResult,
  type SessionAuditEntry,
  type SessionGrant,
  type SessionHostOptions,
  type SessionSocket,
  type SessionState,
} from './session-host';
export { SessionSlots } from './session-slots';
export {
  MAX_CLAIM_CHARS,
  MAX_TICKET_CHARS,
  TICKET_ALGORITHM,
  importTicketPublicKey,
  issueTicket,
  verifyTicket,
  type TicketClaims,
  type TicketInput,
  type TicketRefusal,
  type TicketVerdict,
  type VerifyTicketOptions,
} from './ticket';
export { TokenBucket } from './token-bucket';
export { CLOSE_GRACE_MS, sessionSocketFromWebSocket } from './websocket-session-socket';
export {
  EngineerSession,
  SessionRefusedError,
  type EngineerCommandResult,
  type EngineerSessionOptions,
  type ReadyFrame,
  type SessionEnd,
} from './engineer-session';
