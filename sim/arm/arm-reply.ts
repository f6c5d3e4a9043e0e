/** The request and reply shapes the emulator's handlers work with, and ARM's error body. */

export interface ArmRequest {
  method: string;
  /** Decoded path, without the query. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  /** Parsed JSON; undefined when there was none. */
  body: unknown;
  /** Set when the body was not JSON: why it could not be read. */
  unreadableBody?: string;
}

export interface ArmReply {
  status: number;
  headers?: Record<string, string>;
  /** Serialised as JSON; undefined sends no body. */
  body?: unknown;
}

/** Every ARM error has this shape: `{ error: { code, message } }`. */
export function armError(status: number, code: string, message: string, headers?: Record<string, string>): ArmReply {
  return { status, headers, body: { error: { code, message } } };
}

export function ok(body: unknown): ArmReply {
  return { status: 200, body };
}
