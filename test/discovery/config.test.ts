/** A discovered member's fields are checked at start-up: each bad value is a ConfigError naming it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../lib/config/validate.js';
import { ConfigError } from '../../lib/errors.js';

const config = (member: Record<string, unknown>): unknown => ({
  balancers: [{ name: 'app', mount: '/app', members: [member] }],
});
const dns = { discover: 'dns', name: 'api.internal', port: 8080 };

function refused(member: Record<string, unknown>): ConfigError {
  try {
    validateConfig(config(member));
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail(`accepted ${JSON.stringify(member)}`);
}

describe('discovered member options', () => {
  it('defaults: http, both families, 30 s refresh, 60 s grace, the system resolver', () => {
    const spec = validateConfig(config(dns)).balancers[0]!;
    assert.deepEqual(spec.members, []);
    const d = spec.discovery[0]!;
    assert.deepEqual(
      [d.field, d.kind, d.name, d.port, d.scheme, d.family, d.refreshMs, d.graceMs, d.servers],
      ['balancers[0].members[0]', 'dns', 'api.internal', 8080, 'http', 0, 30_000, 60_000, undefined],
    );
    assert.deepEqual([d.template.lbfactor, d.template.lbset, d.template.max], [100, 0, 256]);
  });

  it('applies the other member options to every worker', () => {
    const d = validateConfig(config({ ...dns, loadfactor: 3, lbset: 2, retry: '5s', hcmethod: 'TCP' })).balancers[0]!
      .discovery[0]!;
    assert.deepEqual(
      [d.template.lbfactor, d.template.lbset, d.template.retryMs, d.template.health?.method],
      [300, 2, 5000, 'TCP'],
    );
  });

  const cases: [Record<string, unknown>, string, unknown, string][] = [
    [{ ...dns, discover: 'a' }, 'discover', 'a', 'is not "dns" or "srv"'],
    [{ ...dns, name: 'bad name' }, 'name', 'bad name', 'is not a DNS name (labels of letters, digits, "-" or "_")'],
    [
      { ...dns, name: `${'a'.repeat(64)}.x` },
      'name',
      `${'a'.repeat(64)}.x`,
      'is not a DNS name (labels of letters, digits, "-" or "_")',
    ],
    [{ ...dns, port: undefined }, 'port', undefined, 'is not an integer in 1..65535'],
    [{ ...dns, port: 0 }, 'port', 0, 'is not an integer in 1..65535'],
    [{ ...dns, discover: 'srv', name: '_http._tcp.x' }, 'port', 8080, 'is given by the SRV records'],
    [{ discover: 'srv', name: '_http._tcp.x', loadfactor: 2 }, 'loadfactor', 2, 'is given by the SRV weights'],
    [{ ...dns, scheme: 'ftp' }, 'scheme', 'ftp', 'is not "http" or "https"'],
    [{ ...dns, family: 5 }, 'family', 5, 'is not 0, 4 or 6'],
    [{ ...dns, refresh: '5ms' }, 'refresh', '5ms', 'is not in 10..86400000 ms'],
    [
      { ...dns, refresh: '30' },
      'refresh',
      '30',
      'is not a duration: use milliseconds (60000) or a unit ("60s", "500ms")',
    ],
    [{ ...dns, grace: -1 }, 'grace', -1, 'is not in 0..86400000 ms'],
    [{ ...dns, servers: [] }, 'servers', [], 'is not a list of 1..16 DNS server addresses'],
    [
      { ...dns, servers: ['dns.example'] },
      'servers',
      ['dns.example'],
      'is not a list of IP addresses with optional ports ("127.0.0.1:5353")',
    ],
    [{ ...dns, route: 'r1' }, 'route', 'r1', 'is derived from each address of a discovered member'],
    [{ ...dns, url: 'http://x' }, 'url', 'http://x', 'is not for a discovered member'],
    [{ ...dns, loadfactor: 0 }, 'loadfactor', 0, 'is not in 1..100'],
    [{ ...dns, tls: {} }, 'tls', {}, 'is only for https:// members and must be an object'],
    [{ ...dns, nmae: 'x' }, 'nmae', 'x', 'is not an option'],
  ];
  for (const [member, field, value, allowed] of cases) {
    it(`${field}: ${JSON.stringify(value)} ${allowed}`, () => {
      const err = refused(member);
      assert.equal(err.field, `balancers[0].members[0].${field}`);
      assert.deepEqual(err.value, value);
      assert.equal(err.allowed, allowed);
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
    });
  }

  it('accepts servers with ports, IPv6 included, and https with tls', () => {
    const d = validateConfig(
      config({ ...dns, scheme: 'https', tls: { rejectUnauthorized: false }, servers: ['127.0.0.1:5353', '[::1]:53'] }),
    ).balancers[0]!.discovery[0]!;
    assert.deepEqual(
      [d.scheme, d.servers, d.template.tls],
      ['https', ['127.0.0.1:5353', '[::1]:53'], { rejectUnauthorized: false }],
    );
  });
});
