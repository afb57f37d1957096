import assert from 'node:assert/strict';
import {
  decodeHeaders,
  decodePayload,
  encodeHeaders,
  encodeKey,
  encodePayload,
  PayloadError,
  toPythonJson,
} from '../../lib/payload';

const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

describe('lib/payload', () => {
  describe('encodePayload', () => {
    it('serializes objects, arrays, numbers and booleans as Python json.dumps does', () => {
      // Expected strings are what `json.dumps(v)` prints in CPython 3.
      assert.equal(text(encodePayload({ message: 'Synchronous message from Diaspora SDK' })), '{"message": "Synchronous message from Diaspora SDK"}');
      assert.equal(text(encodePayload([1, 2.5, 'a', null, true, false, { b: [] }, {}])), '[1, 2.5, "a", null, true, false, {"b": []}, {}]');
      assert.equal(text(encodePayload(42)), '42');
      assert.equal(text(encodePayload(-0.001)), '-0.001');
      assert.equal(text(encodePayload(true)), 'true');
      assert.equal(text(encodePayload({ t: 'café ☕ 😀', ctl: '\u0001\n\u007f' })), '{"t": "caf\\u00e9 \\u2615 \\ud83d\\ude00", "ctl": "\\u0001\\n\\u007f"}');
    });

    it('follows JSON.stringify for toJSON, NaN and undefined members', () => {
      const when = new Date(Date.UTC(2024, 0, 26, 12, 0, 0));
      assert.equal(text(encodePayload({ when, skip: undefined, nan: NaN, inf: -Infinity })), '{"when": "2024-01-26T12:00:00.000Z", "nan": null, "inf": null}');
      assert.equal(text(encodePayload([undefined, 1])), '[null, 1]');
    });

    it('sends strings as UTF-8 text, Buffers as bytes and null as a tombstone', () => {
      assert.equal(text(encodePayload('hello, wörld')), 'hello, wörld');
      assert.equal(text(encodePayload('{"already": "json"}')), '{"already": "json"}');
      const bytes = Buffer.from([0, 255, 1]);
      assert.equal(encodePayload(bytes), bytes);
      assert.deepEqual(encodePayload(new Uint8Array([7, 8])), Buffer.from([7, 8]));
      assert.equal(encodePayload(null), null);
    });

    it('rejects what has no JSON form with a PayloadError naming where it is', () => {
      const cases: Array<[unknown, RegExp]> = [
        [undefined, /msg\.payload is undefined.*null to send a tombstone/],
        [() => 1, /msg\.payload is a function/],
        [Symbol('s'), /msg\.payload is a Symbol/],
        [10n, /msg\.payload is a BigInt/],
        [{ a: { b: [1, 2n] } }, /msg\.payload\.a\.b\[1\] is a BigInt/],
        [{ f() {} }, /msg\.payload\.f is a function/],
        [new Map([['a', 1]]), /msg\.payload is a Map/],
        [{ s: new Set([1]) }, /msg\.payload\.s is a Set/],
      ];
      for (const [value, message] of cases) {
        assert.throws(() => encodePayload(value), (err: unknown) => err instanceof PayloadError && message.test(err.message));
      }
    });

    it('names the place where a structure refers back to itself', () => {
      const loop: Record<string, unknown> = { a: { b: {} } };
      (loop.a as { b: Record<string, unknown> }).b.back = loop;
      assert.throws(() => encodePayload(loop), /msg\.payload\.a\.b\.back refers back to itself \(circular structure\)/);
      // The same object twice, side by side, is not circular.
      const shared = { x: 1 };
      assert.equal(text(encodePayload({ p: shared, q: shared })), '{"p": {"x": 1}, "q": {"x": 1}}');
    });

    it('labels the path it is given', () => {
      assert.throws(() => toPythonJson({ k: () => 0 }, 'msg.key'), /msg\.key\.k is a function/);
    });
  });

  describe('decodePayload', () => {
    const origin = { topic: 'events', partition: 1, offset: '42' };

    it('returns null for a tombstone in every format', () => {
      for (const format of ['auto', 'json', 'string', 'buffer'] as const) assert.equal(decodePayload(null, format), null);
    });

    it('auto: JSON when it parses, else text, else the bytes', () => {
      assert.deepEqual(decodePayload(Buffer.from('{"a": [1, 2]}'), 'auto'), { a: [1, 2] });
      assert.equal(decodePayload(Buffer.from('42'), 'auto'), 42);
      assert.equal(decodePayload(Buffer.from('"quoted"'), 'auto'), 'quoted');
      assert.equal(decodePayload(Buffer.from('plain text'), 'auto'), 'plain text');
      const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
      assert.equal(decodePayload(binary, 'auto'), binary);
    });

    it('json: parses, or fails naming the topic, partition and offset', () => {
      assert.deepEqual(decodePayload(Buffer.from('[true]'), 'json', origin), [true]);
      assert.throws(
        () => decodePayload(Buffer.from('not json'), 'json', origin),
        (err: unknown) =>
          err instanceof PayloadError && /topic "events", partition 1, offset 42 is not valid JSON/.test(err.message) && /"auto"/.test(err.message),
      );
    });

    it('string and buffer formats', () => {
      assert.equal(decodePayload(Buffer.from('{"a":1}'), 'string'), '{"a":1}');
      const bytes = Buffer.from('x');
      assert.equal(decodePayload(bytes, 'buffer'), bytes);
    });

    it('round-trips what encodePayload produced', () => {
      const value = { reading: 21.5, unit: '°C', tags: ['lab', 'é'], ok: true, none: null };
      assert.deepEqual(decodePayload(encodePayload(value), 'json'), value);
    });

    it('rejects an unknown format', () => {
      assert.throws(() => decodePayload(Buffer.from('1'), 'xml' as never), /unknown payload format "xml"/);
    });
  });

  describe('keys and headers', () => {
    it('encodes string, Buffer and number keys; no key for undefined or null', () => {
      assert.equal(text(encodeKey('sensor-1')), 'sensor-1');
      assert.equal(text(encodeKey(17)), '17');
      const k = Buffer.from([1]);
      assert.equal(encodeKey(k), k);
      assert.equal(encodeKey(undefined), null);
      assert.equal(encodeKey(null), null);
    });

    it('rejects other keys with a clear error', () => {
      assert.throws(() => encodeKey({ id: 1 }), /msg\.key must be a string, Buffer or number, not an object/);
      assert.throws(() => encodeKey(true), /not a boolean/);
      assert.throws(() => encodeKey(NaN), /numeric key must be finite/);
    });

    it('encodes headers of strings and Buffers, arrays for repeated headers', () => {
      const encoded = encodeHeaders({ a: 'x', b: Buffer.from('y'), c: ['1', Buffer.from('2')], skipped: undefined });
      assert.deepEqual(encoded, { a: Buffer.from('x'), b: Buffer.from('y'), c: [Buffer.from('1'), Buffer.from('2')] });
      assert.equal(encodeHeaders(undefined), undefined);
      assert.equal(encodeHeaders(null), undefined);
    });

    it('rejects other header values, naming the header', () => {
      assert.throws(() => encodeHeaders({ count: 3 }), /msg\.headers\.count must be a string or Buffer, not a number \(use String\(3\)\)/);
      assert.throws(() => encodeHeaders({ list: ['a', { b: 1 }] }), /msg\.headers\.list\[1\] must be a string or Buffer/);
      assert.throws(() => encodeHeaders('a=b'), /msg\.headers must be an object/);
      assert.throws(() => encodeHeaders([['a', 'b']]), /msg\.headers must be an object of string or Buffer values, not an array/);
    });

    it('decodes consumed headers to text or keeps the bytes', () => {
      const consumed = { a: Buffer.from('x'), r: [Buffer.from('1'), Buffer.from('2')], gone: undefined };
      assert.deepEqual(decodeHeaders(consumed), { a: 'x', r: ['1', '2'] });
      assert.deepEqual(decodeHeaders(consumed, 'buffer'), { a: consumed.a, r: consumed.r });
    });
  });
});
