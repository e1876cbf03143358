/**
 * Mistakes a new user makes in the first hour, each answered with what to do: a worker URL without
 * its scheme, one balancer passed as the whole configuration, numeric durations that look like
 * Apache's seconds (warned once at construction), and the logger and errorHeader options themselves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { balancer, ConfigError } from '../../lib/index.js';
import type { BalancerConfig } from '../../lib/index.js';
import { Notices } from '../../lib/logger.js';
import { FakeClock } from '../support/clock.js';
import { RecordingLogger } from './helpers.js';

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err;
  }
  assert.fail('no ConfigError thrown');
}

const member = (url: unknown): BalancerConfig =>
  ({ balancers: [{ name: 'app', mount: '/app', members: [{ url }] }] }) as BalancerConfig;

describe('configuration messages', () => {
  test('a worker URL without a scheme: "add http://"', () => {
    for (const url of ['10.0.0.1:8080', 'localhost:8080', 'backend', '[::1]:8080/base']) {
      const err = thrown(() => balancer(member(url)));
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.equal(err.field, 'balancers[0].members[0].url');
      assert.equal(
        err.message,
        `balancers[0].members[0].url: ${JSON.stringify(url)} is not an absolute http:// or https:// URL: add http:// (e.g. "http://${url}")`,
      );
    }
    // Real other schemes and non-URLs keep their own messages.
    assert.equal(
      thrown(() => balancer(member('ajp://h:8009'))).message,
      'balancers[0].members[0].url: "ajp://h:8009" is not an http:// or https:// URL (other schemes are refused, cf. CVE-2021-40438)',
    );
    assert.equal(
      thrown(() => balancer(member('/app'))).message,
      'balancers[0].members[0].url: "/app" is not an absolute http:// or https:// URL',
    );
  });

  test('one balancer passed instead of { balancers: [...] }: a hint to wrap it', () => {
    const one = { name: 'app', mount: '/app', members: [{ url: 'http://127.0.0.1:8080' }] };
    const err = thrown(() => balancer(one as unknown as BalancerConfig));
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    assert.equal(err.field, 'balancers');
    assert.equal(
      err.message,
      'balancers: undefined is missing: this looks like one balancer (it has mount or members); wrap it: balancer({ balancers: [ … ] })',
    );
  });

  test('logger and errorHeader are checked like every option', () => {
    const base = member('http://127.0.0.1:8080');
    assert.equal(
      thrown(() => balancer({ ...base, logger: { warn: () => undefined } as never })).message,
      'logger: {} is not a logger ({ warn, info, error }, e.g. console) or false',
    );
    assert.equal(
      thrown(() => balancer({ ...base, logger: true as never })).message,
      'logger: true is not a logger ({ warn, info, error }, e.g. console) or false',
    );
    assert.equal(
      thrown(() => balancer({ ...base, errorHeader: 'no' as never })).message,
      'errorHeader: "no" is not a boolean (true/false or "On"/"Off")',
    );
  });
});

describe('durations that look like Apache seconds', () => {
  test('numbers under 1000 ms on retry, timeout, connectiontimeout, hcinterval and the balancer timeout: one warning each', async () => {
    const logger = new RecordingLogger();
    const mw = balancer({
      balancers: [
        {
          name: 'app',
          mount: '/app',
          timeout: 5,
          members: [
            { url: 'http://127.0.0.1:1', retry: 60, timeout: 30, connectiontimeout: 2.5 },
            { url: 'http://127.0.0.1:2', hcmethod: 'TCP', hcinterval: 500 },
            // Not warned: 0 (none), strings with a unit, a second or more.
            {
              url: 'http://127.0.0.1:3',
              retry: 0,
              timeout: '30s',
              connectiontimeout: 1000,
              hcmethod: 'TCP',
              hcinterval: '500ms',
            },
          ],
        },
        { name: 'b', mount: '/b', timeout: 0, members: [{ url: 'http://127.0.0.1:4', retry: 999 }] },
      ],
      clock: new FakeClock(),
      logger,
    });
    const hint = (field: string, key: string, v: number): string =>
      `warn express-proxy-balancer: ${field}: ${v} is ${v} ms (a number is milliseconds; Apache's ${key} is in seconds): write "${v}s" if you meant seconds, or "${v}ms" to keep it without this warning`;
    assert.deepEqual(logger.lines, [
      hint('balancers[0].timeout', 'timeout', 5),
      hint('balancers[0].members[0].retry', 'retry', 60),
      hint('balancers[0].members[0].timeout', 'timeout', 30),
      hint('balancers[0].members[0].connectiontimeout', 'connectiontimeout', 2.5),
      hint('balancers[0].members[1].hcinterval', 'hcinterval', 500),
      hint('balancers[1].members[0].retry', 'retry', 999),
    ]);
    await mw.close(0);
  });

  test('logger: false says nothing', async () => {
    const said: string[] = [];
    const original = console.warn;
    console.warn = (m: string) => void said.push(m);
    try {
      const quiet = balancer({ ...member('http://127.0.0.1:1'), logger: false });
      const cfg = member('http://127.0.0.1:1');
      cfg.balancers[0]!.members[0]!.retry = 60;
      const loud = balancer(cfg);
      const silenced = balancer({ ...cfg, logger: false });
      assert.deepEqual(said, [
        'express-proxy-balancer: balancers[0].members[0].retry: 60 is 60 ms (a number is milliseconds; Apache\'s retry is in seconds): write "60s" if you meant seconds, or "60ms" to keep it without this warning',
      ]);
      await Promise.all([quiet.close(0), loud.close(0), silenced.close(0)]);
    } finally {
      console.warn = original;
    }
  });
});

describe('Notices', () => {
  test('prefixes every line, says each key once, and survives a throwing logger', () => {
    const logger = new RecordingLogger();
    const n = new Notices(logger);
    n.once('warn', 'k', 'first');
    n.once('warn', 'k', 'again');
    n.once('error', 'other', 'second');
    n.say('info', 'each time');
    n.say('info', 'each time');
    assert.deepEqual(logger.lines, [
      'warn express-proxy-balancer: first',
      'error express-proxy-balancer: second',
      'info express-proxy-balancer: each time',
      'info express-proxy-balancer: each time',
    ]);
    const throwing = new Notices({
      warn: () => {
        throw new Error('disk full');
      },
      info: () => undefined,
      error: () => undefined,
    });
    assert.doesNotThrow(() => throwing.say('warn', 'x'));
  });
});
