import { CHANNEL_USER_PREFIX, LOCAL_USER_NAME_MAX, channelUserName } from '../../core/node-layout';

describe("the channel's per-grant local account name", () => {
  it('is the prefix and the first 8 hex digits of the grant id, in lower case', () => {
    expect(channelUserName('3F2B8C1E-5D4A-4E7B-9C2D-1A2B3C4D5E6F')).toBe('ArcRS-3f2b8c1e');
    expect(channelUserName('3f2b8c1e-5d4a-4e7b-9c2d-1a2b3c4d5e6f').startsWith(CHANNEL_USER_PREFIX)).toBe(true);
  });

  it("fits Windows' limit for local user names", () => {
    expect(LOCAL_USER_NAME_MAX).toBe(20);
    expect(channelUserName('ffffffff-ffff-ffff-ffff-ffffffffffff').length).toBeLessThanOrEqual(LOCAL_USER_NAME_MAX);
  });

  it('tells different grants apart', () => {
    expect(channelUserName('11111111-0000-4000-8000-000000000000')).not.toBe(channelUserName('22222222-0000-4000-8000-000000000000'));
  });

  it('refuses a grant id that is not a UUID, naming it', () => {
    expect(() => channelUserName('not-a-uuid')).toThrow(/'not-a-uuid'.*8 hexadecimal digits/);
    expect(() => channelUserName('')).toThrow(/UUID/);
  });
});
