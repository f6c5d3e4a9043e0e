/**
 * The settings reader is strict where JSON.parse is lenient: a key twice in one object, bytes that
 * are not UTF-8, and text that could forge what the history, event log or status show are refused
 * with the field named. Messages show received values with such characters escaped.
 */
import { describeValue, ConfigurationError } from '../../extension/errors';
import { parseSettingsFile } from '../../extension/settings-file';
import { parseStrictJson, StrictJsonError, MAX_JSON_DEPTH } from '../../extension/strict-json';
import { escapeUnsafe, findUnsafeCharacter, UNSAFE_CHARACTER_CLASS } from '../../extension/unsafe-text';
import settingsSchema from '../../manifests/settings.schema.json';

const strictError = (text: string | Buffer): StrictJsonError => {
  try {
    parseStrictJson(text);
  } catch (error) {
    if (error instanceof StrictJsonError) return error;
    throw error;
  }
  throw new Error(`parsed: ${text.toString()}`);
};

const settingsError = (text: string | Buffer): ConfigurationError => {
  try {
    parseSettingsFile(1, Buffer.isBuffer(text) ? text : Buffer.from(text));
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('accepted');
};

const wrap = (publicSettings: string) => `{"runtimeSettings":[{"handlerSettings":{"publicSettings":${publicSettings}}}]}`;

describe('strict JSON', () => {
  it.each([
    '{}',
    '[]',
    '{"a":[1,-0.5,2e3,1E-2,0,true,false,null],"b":{"c":"d"}}',
    '"\\u00e9\\ud83d\\ude00 \\" \\\\ \\/ \\b \\f \\n \\r \\t"',
    ' \t\r\n{"é":"Zoë 😀 日本"} \n',
    '{"a":{"a":{"a":1}}}',
    '[{"k":1},{"k":2}]',
  ])('reads %s as JSON.parse does', (text) => {
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  it('makes "__proto__" an own property, as JSON.parse does, without touching the prototype', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ['{"a":1,"a":2}', ['a']],
    ['{"x":{"level":"None","level":"Diagnostics"}}', ['x', 'level']],
    ['{"x":[{"k":1},{"k":1,"y":{"z":0,"z":0}}]}', ['x', 1, 'y', 'z']],
    ['{"level":1,"\\u006cevel":2}', ['level']],
    ['{"":1,"":2}', ['']],
  ])('refuses the duplicated key in %s, naming where', (text, path) => {
    const error = strictError(text);
    expect(error.problem).toBe('duplicate-key');
    expect(error.path).toEqual(path);
  });

  it('tells keys apart that differ only in case or normalisation', () => {
    expect(parseStrictJson('{"Level":1,"level":2,"é":3,"e\\u0301":4}')).toEqual({ Level: 1, level: 2, é: 3, 'e\u0301': 4 });
  });

  it.each([
    ['a trailing comma', '{"a":1,}'],
    ['a comment', '{"a":1 /* no */}'],
    ['single quotes', "{'a':1}"],
    ['NaN', '[NaN]'],
    ['a leading zero', '[01]'],
    ['a bare dot', '[1.]'],
    ['a plus sign', '[+1]'],
    ['text after the value', '{} {}'],
    ['an unknown escape', '["\\x41"]'],
    ['a short \\u escape', '["\\u12"]'],
    ['an unterminated string', '["abc'],
    ['nothing', ''],
    ['an unquoted key', '{a:1}'],
  ])('refuses %s', (_name, text) => {
    expect(strictError(text).problem).toBe('syntax');
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels instead of exhausting the stack`, () => {
    expect(parseStrictJson(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBeDefined();
    expect(strictError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).detail).toMatch(/nested deeper than 64 levels/);
  });

  it('refuses a raw control character inside a string', () => {
    const error = strictError('{"a":"x\ty"}');
    expect(error).toMatchObject({ problem: 'control-character', path: ['a'] });
  });

  it.each([
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
    ['a sequence cut short', [0xe2, 0x82]],
    ['a code point beyond U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a lone continuation byte', [0x80]],
    ['a byte never used in UTF-8', [0xff]],
  ])('refuses %s inside a string, naming where and which bytes', (_name, bytes) => {
    const error = strictError(Buffer.concat([Buffer.from('{"k":{"v":"ok'), Buffer.from(bytes), Buffer.from('"}}')]));
    expect(error).toMatchObject({ problem: 'invalid-utf8', path: ['k', 'v'], offset: 13 });
    expect(error.detail).toContain(`0x${bytes[0]!.toString(16).toUpperCase()}`);
  });
});

describe('the settings file', () => {
  it('treats a file of a BOM and whitespace as no settings yet', () => {
    expect(parseSettingsFile(3, Buffer.from('\ufeff \r\n\t')).empty).toBe(true);
    expect(parseSettingsFile(3, null).empty).toBe(true);
  });

  it('reads a file with a BOM', () => {
    expect(parseSettingsFile(3, Buffer.from(`\ufeff${wrap('{"retentionDays":7}')}`)).publicSettings).toEqual({ retentionDays: 7 });
  });

  it('names a key given twice by its path in the public settings, with line and column', () => {
    const error = settingsError(
      `{"runtimeSettings":[{"handlerSettings":{"publicSettings":{\n  "access":{"level":"None",\n    "level":"Diagnostics"}}}}]}`,
    );
    expect(error.field).toBe('access.level');
    expect(error.message).toContain('received the key "level" a second time in one object (line 3, column 5)');
    expect(error.message).toContain('a second value could silently turn a revoke into a grant');
  });

  it('names unsafe text anywhere in the public settings, showing the value escaped', () => {
    const error = settingsError(wrap('{"cluster":{"nodes":["A","B\\u202eC"]}}'));
    expect(error.field).toBe('cluster.nodes[1]');
    expect(error.message).toContain('received "B\\u202eC", text with U+202E (a bidirectional formatting character) at character 2');
    expect(error.message).not.toMatch(/\u202e/);
  });

  it('describes unsafe text outside the public settings without showing it (it may be secret)', () => {
    const error = settingsError(
      '{"runtimeSettings":[{"handlerSettings":{"protectedSettings":"c2VjcmV0\\u2028","protectedSettingsCertThumbprint":"AB"}}]}',
    );
    expect(error.field).toBe('protectedSettings');
    expect(error.message).toContain('received text with U+2028 (a line separator) at character 9');
    expect(error.message).not.toContain('c2VjcmV0');
  });

  it('shows where text that is not JSON fails, without quoting it', () => {
    const error = settingsError('{"runtimeSettings": [\n  {"handlerSettings": {"protectedSettings": "s3cr3t" oops}}]}');
    expect(error.field).toBe('settings file');
    expect(error.message).toContain(
      "received text that is not JSON ('o' where ',' or '}' after a value in an object was expected at line 2, column 54)",
    );
    expect(error.message).not.toContain('s3cr3t');
  });
});

describe('unsafe text', () => {
  it.each([
    ['NUL', '\u0000', 'a NUL character'],
    ['a C0 control', '\u001b', 'a control character'],
    ['DEL', '\u007f', 'a control character'],
    ['a C1 control', '\u009b', 'a control character'],
    ['a line separator', '\u2028', 'a line separator'],
    ['a paragraph separator', '\u2029', 'a paragraph separator'],
    ...['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c'].map(
      (character) => [`U+${character.charCodeAt(0).toString(16).toUpperCase()}`, character, 'a bidirectional formatting character'],
    ),
    ['a zero-width space', '\u200b', 'an invisible formatting character'],
    ['a byte order mark', '\ufeff', 'an invisible formatting character'],
    ['a lone high surrogate', '\ud800', 'a lone surrogate'],
    ['a lone low surrogate', '\udfff', 'a lone surrogate'],
  ])('finds %s, refuses it in the schema and escapes it in messages', (_name, character, kind) => {
    const text = `ab${character}c`;
    expect(findUnsafeCharacter(text)).toEqual({ position: 3, codePoint: character.codePointAt(0), kind });
    expect(escapeUnsafe(text)).toBe(`ab\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}c`);
    expect(describeValue(text)).not.toContain(character);
    expect(acceptedByPattern.test(text)).toBe(false);
  });

  it.each(['owner@contoso.example', 'CONTOSO\\Zoë Müller', 'Ὀδυσσεύς', 'مالك', '山田太郎', 'owner 😀', 'a\u00a0b'])(
    'leaves ordinary text alone: %s',
    (text) => {
      expect(findUnsafeCharacter(text)).toBeUndefined();
      expect(escapeUnsafe(text)).toBe(text);
      expect(acceptedByPattern.test(text)).toBe(true);
    },
  );

  it('finds and escapes exactly the characters of the class, each of the 65536 UTF-16 units alone and inside ASCII text', () => {
    const unsafe = new RegExp(`[${UNSAFE_CHARACTER_CLASS}]`, 'u');
    const escaped = (unit: number) => `\\u${unit.toString(16).padStart(4, '0')}`;
    const wrong: number[] = [];
    let found = 0;
    for (let unit = 0; unit <= 0xffff; unit++) {
      const character = String.fromCharCode(unit);
      const isUnsafe = unsafe.test(character);
      if (isUnsafe) found += 1;
      for (const text of [character, `plain ${character} text`]) {
        const right =
          (findUnsafeCharacter(text) !== undefined) === isUnsafe &&
          escapeUnsafe(text) === (isUnsafe ? text.replace(character, escaped(unit)) : text);
        if (!right) wrong.push(unit);
      }
    }
    expect(wrong).toEqual([]);
    // C0, DEL and C1, the formatting characters and the 2048 surrogates, at least.
    expect(found).toBeGreaterThan(65 + 2048 + 20);
  });

  it('is the same class in the schema (so the CLI refuses what the handler refuses)', () => {
    expect(settingsSchema.properties.access.properties.consent.properties.acceptedBy.pattern).toBe(`^[^${UNSAFE_CHARACTER_CLASS}]{1,256}$`);
  });

  it('cuts a long value in a message without splitting a character outside the BMP', () => {
    const shown = describeValue('😀'.repeat(100));
    expect(shown).toBe(`"${'😀'.repeat(77)}..."`);
  });
});

const acceptedByPattern = new RegExp(settingsSchema.properties.access.properties.consent.properties.acceptedBy.pattern, 'u');
