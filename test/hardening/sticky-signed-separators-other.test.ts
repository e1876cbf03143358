/**
 * Signed route cookies with the separators outside the base64url alphabet (punctuation): they never
 * occur in a signature but may occur in a route, and some are percent-encoded in the cookie.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE64URL, SEPARATORS, sweepSeparators } from './sticky-separators.js';

test('separators outside base64url: every issued signed cookie verifies and routes to its worker (10 000 routes each)', () => {
  const others = SEPARATORS.filter((c) => !BASE64URL.includes(c));
  assert.equal(others.length, 28);
  assert.equal(others.length + BASE64URL.length, 92);
  const seen = sweepSeparators(others);
  assert.equal(seen.insideSignature, 0);
  assert.ok(seen.insideRoute > 15_000, `only ${seen.insideRoute} routes held their separator`);
});
