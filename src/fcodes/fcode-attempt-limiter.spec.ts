import { addressSubject } from './fcode-attempt-limiter';

describe('addressSubject (the per-address counter of the F-code brake)', () => {
  it('counts an IPv4 address as itself', () => {
    expect(addressSubject('203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(addressSubject('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /64 together, however it is written', () => {
    const subject = addressSubject('2001:db8:85a3:12::1');
    expect(subject).toBe('2001:db8:85a3:12::/64');
    expect(addressSubject('2001:0DB8:85A3:0012:ffff:1:2:3')).toBe(subject);
    expect(addressSubject('2001:db8:85a3:12:abcd::')).toBe(subject);
  });

  it('tells different IPv6 /64s apart', () => {
    expect(addressSubject('2001:db8:85a3:13::1')).not.toBe(addressSubject('2001:db8:85a3:12::1'));
    expect(addressSubject('::1')).toBe('0:0:0:0::/64');
  });
});
