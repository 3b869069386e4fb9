import { describe, expect, it } from 'vitest';
import { formatIp, parseCidr, parseIp } from '../../../shared/access/ip.ts';
import {
  compileRules,
  normalizeRuleValue,
  type SnapshotRule,
} from '../../../shared/access/rules.ts';

const rule = (over: Partial<SnapshotRule>): SnapshotRule => ({
  id: 'acr_x',
  list: 'deny',
  subject_type: 'ip',
  value: '192.0.2.1',
  expires_at: null,
  ...over,
});

describe('IP addresses', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['::', '::'],
    ['::1', '::1'],
    ['::ffff:192.0.2.9', '192.0.2.9'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('prints %s canonically as %s', (input, canonical) => {
    const ip = parseIp(input);
    expect(ip).not.toBeNull();
    expect(formatIp(ip!)).toBe(canonical);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '256.0.0.1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    'g::1',
  ])('refuses %j', (input) => {
    expect(parseIp(input)).toBeNull();
  });

  it('refuses a range with host bits set, naming the network it probably meant', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({
      ok: false,
      problem: 'has host bits set past /8; did you mean 10.0.0.0/8?',
    });
    expect(parseCidr('2001:db8::1/32')).toMatchObject({ ok: false });
    expect(parseCidr('2001:db8::/129')).toEqual({ ok: false, problem: 'prefix out of range' });
  });

  it('normalises rule values and refuses values of the wrong kind', () => {
    expect(normalizeRuleValue('ip', '203.0.113.5/32')).toEqual({ ok: true, value: '203.0.113.5' });
    expect(normalizeRuleValue('ip', '2001:DB8::/32')).toEqual({ ok: true, value: '2001:db8::/32' });
    expect(normalizeRuleValue('api_key', '203.0.113.5').ok).toBe(false);
    expect(normalizeRuleValue('ip', 'key_01jd5x3k7yf0v9r2m4q6s8t1wz').ok).toBe(false);
  });
});

describe('access rule matcher', () => {
  const matcher = compileRules([
    rule({ id: 'acr_net', list: 'allow', value: '198.51.100.0/24' }),
    rule({ id: 'acr_host', list: 'deny', value: '198.51.100.66' }),
    rule({ id: 'acr_v6', list: 'deny', value: '2001:db8:aa::/48' }),
    rule({ id: 'acr_key', list: 'deny', subject_type: 'api_key', value: 'key_1' }),
    rule({ id: 'acr_old', value: '203.0.113.7', expires_at: '2020-01-01T00:00:00.000Z' }),
  ]);

  it('matches exact addresses, ranges and keys, deny before allow', () => {
    expect(matcher.match({ ip: '198.51.100.10', keyId: null })).toEqual({
      list: 'allow',
      ruleId: 'acr_net',
    });
    expect(matcher.match({ ip: '198.51.100.66', keyId: null })?.ruleId).toBe('acr_host');
    expect(matcher.match({ ip: '2001:db8:aa:ffff::1', keyId: null })?.ruleId).toBe('acr_v6');
    expect(matcher.match({ ip: '2001:db8:ab::1', keyId: null })).toBeNull();
    expect(matcher.match({ ip: '198.51.100.10', keyId: 'key_1' })?.ruleId).toBe('acr_key');
    expect(matcher.match({ ip: null, keyId: null })).toBeNull();
  });

  it('ignores expired rules', () => {
    expect(matcher.match({ ip: '203.0.113.7', keyId: null })).toBeNull();
    expect(matcher.match({ ip: '203.0.113.7', keyId: null }, Date.UTC(2019, 0, 1))?.ruleId).toBe(
      'acr_old',
    );
  });
});
