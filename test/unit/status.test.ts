/**
 * The status table (lib/model/status.ts): letters ↔ bits ↔ the words Apache's balancer-manager
 * shows (proxy_wstat_tbl order; oracle manager snapshots: "Init Ok", "Init Err", "Init Dis",
 * "Init Stby Ok", "Init HcFl").
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FLAGS,
  DISABLED,
  DRAIN,
  HC_FAIL,
  HOT_SPARE,
  HOT_STANDBY,
  IGNORE_ERRORS,
  IN_ERROR,
  STOPPED,
  bitOf,
  isStatusLetter,
  isUsableStatus,
  statusLetters,
  statusWords,
} from '../../lib/model/status.js';

describe('status: the flag table', () => {
  const table: [letter: string, bit: number, word: string, usable: boolean][] = [
    ['I', IGNORE_ERRORS, 'Ign', true],
    ['N', DRAIN, 'Drn', true],
    ['D', DISABLED, 'Dis', false],
    ['S', STOPPED, 'Stop', false],
    ['E', IN_ERROR, 'Err', false],
    ['H', HOT_STANDBY, 'Stby', true],
    ['R', HOT_SPARE, 'Spar', true],
    ['C', HC_FAIL, 'HcFl', false],
  ];

  it("is in Apache's display order", () => {
    assert.deepEqual(
      FLAGS.map((f) => f.letter),
      table.map(([l]) => l),
    );
  });

  it('has one distinct bit per letter', () => {
    const bits = FLAGS.map((f) => f.bit);
    assert.equal(new Set(bits).size, bits.length);
    for (const b of bits) assert.equal(b & (b - 1), 0, `${b} is a single bit`);
  });

  for (const [letter, bit, word, usable] of table) {
    it(`${letter}: bit ${bit}, word ${word}, ${usable ? 'usable' : 'not usable'}`, () => {
      assert.ok(isStatusLetter(letter));
      if (!isStatusLetter(letter)) return;
      assert.equal(bitOf(letter), bit);
      assert.equal(statusLetters(bit), letter);
      assert.equal(FLAGS.find((f) => f.letter === letter)?.word, word);
      assert.equal(isUsableStatus(bit), usable);
    });
  }

  it('knows no other letters (Apache internals O G U F are not ours)', () => {
    for (const ch of ['O', 'G', 'U', 'F', 'd', 'h', '', 'DH', '+', ' ']) assert.equal(isStatusLetter(ch), false, ch);
  });
});

describe('status: letters', () => {
  const cases: [number, string][] = [
    [0, ''],
    [DISABLED | HOT_STANDBY, 'DH'],
    [HOT_STANDBY | DISABLED, 'DH'],
    [IN_ERROR | STOPPED, 'SE'],
    [HC_FAIL | IGNORE_ERRORS, 'IC'],
    [IGNORE_ERRORS | DRAIN | DISABLED | STOPPED | IN_ERROR | HOT_STANDBY | HOT_SPARE | HC_FAIL, 'INDSEHRC'],
  ];
  for (const [bits, letters] of cases) {
    it(`${bits} → "${letters}" and back`, () => {
      assert.equal(statusLetters(bits), letters);
      let back = 0;
      for (const ch of letters) {
        assert.ok(isStatusLetter(ch));
        if (isStatusLetter(ch)) back |= bitOf(ch);
      }
      assert.equal(back, bits);
    });
  }
});

describe("status: Apache's manager words", () => {
  const cases: [number, string][] = [
    [0, 'Init Ok'],
    [IN_ERROR, 'Init Err'],
    [DISABLED, 'Init Dis'],
    [HOT_STANDBY, 'Init Stby Ok'],
    [HC_FAIL, 'Init HcFl'],
    [STOPPED, 'Init Stop'],
    [DRAIN, 'Init Drn Ok'],
    [HOT_SPARE, 'Init Spar Ok'],
    [IGNORE_ERRORS, 'Init Ign Ok'],
    [DISABLED | HOT_STANDBY, 'Init Dis Stby'],
    [IN_ERROR | HOT_STANDBY, 'Init Err Stby'],
    [STOPPED | IN_ERROR, 'Init Stop Err'],
    [IGNORE_ERRORS | DRAIN, 'Init Ign Drn Ok'],
  ];
  for (const [bits, words] of cases) {
    it(`${statusLetters(bits) || '(none)'} → "${words}"`, () => {
      assert.equal(statusWords(bits), words);
    });
  }
});

describe('status: usable', () => {
  it('is false exactly when D, S, E or C is set (PROXY_WORKER_NOT_USABLE_BITMAP)', () => {
    for (let bits = 0; bits < 256; bits++) {
      const expected = (bits & (DISABLED | STOPPED | IN_ERROR | HC_FAIL)) === 0;
      assert.equal(isUsableStatus(bits), expected, statusLetters(bits));
    }
  });
});
