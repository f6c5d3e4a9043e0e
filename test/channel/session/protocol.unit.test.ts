/**
 * The session protocol's frames: every engineer frame is checked (binary, size, JSON, type, fields,
 * lengths) and a bad one is a typed error naming the field; output is chunked so every node frame
 * fits the same size cap.
 */
import {
  MAX_COMMAND_CHARS,
  MAX_INBOUND_FRAME_BYTES,
  OUTPUT_CHUNK_CHARS,
  chunkOutput,
  parseEngineerFrame,
  parseNodeFrame,
  serializeFrame,
  type EngineerFrame,
  type NodeFrame,
} from '../../../channel/session/protocol';

const parse = (value: unknown) => parseEngineerFrame(typeof value === 'string' ? value : JSON.stringify(value), false);
const errorOf = (value: unknown) => {
  const result = parse(value);
  if (result.ok) throw new Error('the frame was accepted');
  return result.error;
};

describe('engineer frames', () => {
  it('round-trips hello, run and cancel, from text or UTF-8 bytes', () => {
    const frames: EngineerFrame[] = [
      { type: 'hello', ticket: 'a.b.c' },
      { type: 'run', id: 'cmd-1', command: 'Get-Service WinRM | Format-List *' },
      { type: 'cancel', id: 'cmd-1' },
    ];
    for (const frame of frames) {
      expect(parseEngineerFrame(serializeFrame(frame), false)).toEqual({ ok: true, frame });
      expect(parseEngineerFrame(Buffer.from(serializeFrame(frame)), false)).toEqual({ ok: true, frame });
    }
  });

  it('refuses binary frames, oversize frames, and text that is not a JSON object', () => {
    expect(parseEngineerFrame(Buffer.from('{"type":"cancel","id":"a"}'), true)).toMatchObject({ ok: false, error: { kind: 'binary' } });
    const big = JSON.stringify({ type: 'run', id: 'x', command: 'a'.repeat(MAX_INBOUND_FRAME_BYTES) });
    expect(errorOf(big)).toMatchObject({ kind: 'too-large', message: expect.stringContaining(`${MAX_INBOUND_FRAME_BYTES}`) });
    // Size is in bytes, not characters: 30 000 three-byte characters are 90 000 bytes.
    expect(errorOf(JSON.stringify({ type: 'hello', ticket: '€'.repeat(30_000) }))).toMatchObject({ kind: 'too-large' });
    expect(parseEngineerFrame(Buffer.from([0x7b, 0xff, 0x7d]), false)).toMatchObject({ ok: false, error: { kind: 'not-json' } });
    for (const text of ['not json', '[1,2]', 'null', '"run"']) expect(errorOf(text)).toMatchObject({ kind: 'not-json' });
  });

  it('names an unknown type, an unknown field and a bad field', () => {
    expect(errorOf({ type: 'exec', command: 'x' })).toMatchObject({ kind: 'unknown-type', field: 'type' });
    expect(errorOf({ ticket: 'a.b.c' })).toMatchObject({ kind: 'unknown-type' });
    expect(errorOf({ type: 'hello', ticket: 'a.b.c', level: 'DiagnosticsAndRepair' })).toMatchObject({
      kind: 'unknown-field',
      field: 'level',
    });
    expect(errorOf({ type: 'hello' })).toMatchObject({ kind: 'bad-field', field: 'ticket' });
    expect(errorOf({ type: 'hello', ticket: 'x'.repeat(5000) })).toMatchObject({ kind: 'bad-field', field: 'ticket' });
    expect(errorOf({ type: 'run', id: 'has space', command: 'x' })).toMatchObject({ kind: 'bad-field', field: 'id' });
    expect(errorOf({ type: 'run', id: 'a'.repeat(65), command: 'x' })).toMatchObject({ kind: 'bad-field', field: 'id' });
    expect(errorOf({ type: 'run', id: 'a', command: 42 })).toMatchObject({ kind: 'bad-field', field: 'command' });
    expect(errorOf({ type: 'cancel', id: 7 })).toMatchObject({
      kind: 'bad-field',
      field: 'id',
      message: "cancel.id must be 1 to 64 letters, digits, '.', '_', ':' or '-'.",
    });
  });

  it('a command too long, blank or with NUL is an error that keeps the command id, so only that command is refused', () => {
    expect(errorOf({ type: 'run', id: 'c9', command: 'a'.repeat(MAX_COMMAND_CHARS + 1) })).toMatchObject({
      kind: 'command-too-long',
      field: 'command',
      id: 'c9',
    });
    expect(parse({ type: 'run', id: 'c9', command: 'a'.repeat(MAX_COMMAND_CHARS) }).ok).toBe(true);
    expect(errorOf({ type: 'run', id: 'c10', command: '   ' })).toMatchObject({ kind: 'bad-field', id: 'c10' });
    expect(errorOf({ type: 'run', id: 'c11', command: 'Get-Date\u0000' })).toMatchObject({ kind: 'bad-field', id: 'c11' });
  });
});

describe('node frames', () => {
  it('round-trips every node frame through the engineer-side parser', () => {
    const frames: NodeFrame[] = [
      { type: 'ready', level: 'Diagnostics', sessionId: 's-1', expiresAt: '2030-01-01T00:00:00.000Z', machine: 'M', node: 'N' },
      { type: 'refused', reason: 'reused', message: 'The ticket was used before.' },
      { type: 'out', id: 'c1', stream: 'warning', text: 'careful' },
      { type: 'done', id: 'c1', ok: false, error: 'Cancelled by the engineer.' },
      { type: 'rejected', id: 'c2', reason: 'rate-limited', message: 'later', retryAfterMs: 900 },
      { type: 'ended', reason: 'revoked' },
    ];
    for (const frame of frames) expect(parseNodeFrame(serializeFrame(frame), false)).toEqual({ ok: true, frame });
    expect(parseNodeFrame('{"type":"ended","reason":"bored"}', false)).toMatchObject({ ok: false, error: { field: 'reason' } });
    expect(parseNodeFrame('{"type":"ready","level":"Admin"}', false)).toMatchObject({ ok: false, error: { field: 'level' } });
  });

  it('chunks output so that each out frame stays under the frame cap, even if every character needs escaping', () => {
    const worst = '\u0001'.repeat(3 * OUTPUT_CHUNK_CHARS + 5);
    const chunks = chunkOutput(worst);
    expect(chunks.map((chunk) => chunk.length)).toEqual([OUTPUT_CHUNK_CHARS, OUTPUT_CHUNK_CHARS, OUTPUT_CHUNK_CHARS, 5]);
    for (const text of chunks) {
      const frame = serializeFrame({ type: 'out', id: 'a'.repeat(64), stream: 'output', text });
      expect(Buffer.byteLength(frame)).toBeLessThan(MAX_INBOUND_FRAME_BYTES);
    }
    expect(chunks.join('')).toBe(worst);
  });

  it('never cuts a surrogate pair across two chunks', () => {
    const text = `${'a'.repeat(OUTPUT_CHUNK_CHARS - 1)}😀tail`;
    const chunks = chunkOutput(text);
    expect(chunks[0]).toHaveLength(OUTPUT_CHUNK_CHARS - 1);
    expect(chunks[1]).toBe('😀tail');
    expect(chunkOutput('')).toEqual([]);
  });
});
