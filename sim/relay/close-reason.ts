/** A WebSocket close reason is at most 123 bytes of UTF-8 (RFC 6455, 5.5): longer text is cut there. */
const LONGEST_CLOSE_REASON_BYTES = 123;

export function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason, 'utf8') > LONGEST_CLOSE_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}
