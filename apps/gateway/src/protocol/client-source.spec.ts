import { clientSource } from './client-source';

describe('clientSource', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.7', '64:ff9b:0:0::/64'],
    ['', ''],
  ])('%s counts as %s', (address, source) => {
    expect(clientSource(address)).toBe(source);
  });

  it('puts every address of one /64 under one source, and another /64 under another', () => {
    expect(clientSource('2001:db8:1:2::a')).toBe(clientSource('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(clientSource('2001:db8:1:3::a')).not.toBe(clientSource('2001:db8:1:2::a'));
  });
});
