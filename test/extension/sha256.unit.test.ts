/**
 * The handler's own SHA-256 gives Node's digest for every length around the block and padding
 * boundaries, for the published test vectors, and for the largest settings file accepted: a status
 * answers its settings by this digest, and digests recorded by earlier versions must still match.
 */
import { createHash, randomBytes } from 'crypto';
import { sha256Hex } from '../../extension/sha256';
import { MAX_SETTINGS_BYTES, settingsDigest } from '../../extension/settings-file';

const nodeSha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('sha256Hex', () => {
  it('gives the FIPS 180-4 example digests', () => {
    expect(sha256Hex(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it("agrees with Node's crypto for every length from 0 to 300 bytes", () => {
    for (let length = 0; length <= 300; length++) {
      const data = randomBytes(length);
      expect([length, sha256Hex(data)]).toEqual([length, nodeSha256(data)]);
    }
  });

  it("agrees with Node's crypto for the largest settings file accepted, and for one byte more", () => {
    for (const length of [MAX_SETTINGS_BYTES, MAX_SETTINGS_BYTES + 1]) {
      const data = randomBytes(length);
      expect(sha256Hex(data)).toBe(nodeSha256(data));
    }
  });

  it('reads only the bytes of a view into a larger buffer', () => {
    const whole = randomBytes(200);
    const view = whole.subarray(37, 150);
    expect(sha256Hex(view)).toBe(nodeSha256(view));
  });

  it('is what settingsDigest records, with no file counting as empty', () => {
    const bytes = Buffer.from('{"runtimeSettings":[]}');
    expect(settingsDigest(bytes)).toBe(`sha256:${nodeSha256(bytes)}`);
    expect(settingsDigest(null)).toBe(`sha256:${nodeSha256(Buffer.alloc(0))}`);
  });
});
