/**
 * Kafka record values, keys and headers to and from what Node-RED messages carry.
 * Values are serialized as the Diaspora Python SDK does (`json.dumps(v).encode("utf-8")`), so an
 * event sent from Node-RED is byte-identical to the same event sent with the SDK.
 */
import { isUtf8 } from 'node:buffer';

export class PayloadError extends Error {
  override name = 'PayloadError';
}

export type PayloadFormat = 'auto' | 'json' | 'string' | 'buffer';

/** Where a consumed value came from, for error messages. */
export interface RecordOrigin {
  topic: string;
  partition?: number;
  offset?: string;
}

/**
 * object/array/number/boolean → JSON; string → UTF-8; Buffer/Uint8Array → bytes; null → null
 * (a tombstone). Throws PayloadError for what has no JSON form (undefined, functions, symbols,
 * BigInt, Map/Set, circular structures), naming where the problem is.
 */
export function encodePayload(payload: unknown): Buffer | null {
  if (payload === null) return null;
  if (Buffer.isBuffer(payload)) return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  if (payload === undefined) {
    throw new PayloadError('msg.payload is undefined: set a payload (use null to send a tombstone)');
  }
  const fast = fastPythonJson(payload);
  if (fast === undefined) return Buffer.from(toPythonJson(payload, 'msg.payload'), 'utf8');
  // One pass for the bytes: ASCII-only text (the usual case) has as many bytes as characters and
  // needs Python's escaping only for DEL, found by a byte search; anything else is escaped and encoded again.
  const bytes = Buffer.from(fast, 'utf8');
  if (bytes.length === fast.length && bytes.indexOf(0x7f) === -1) return bytes;
  return Buffer.from(pythonEscaped(fast), 'utf8');
}

/** Python's json refuses deeper nesting (recursion limit 1000), and so does this serializer. */
const MAX_JSON_DEPTH = 900;

/**
 * `json.dumps` with Python's defaults: `", "` and `": "` separators, non-ASCII escaped as \uXXXX.
 * JavaScript semantics otherwise: toJSON() is honoured, NaN/Infinity become null, an undefined
 * property is left out and an undefined array item becomes null, as JSON.stringify does.
 */
export function toPythonJson(value: unknown, path = 'value'): string {
  const fast = fastPythonJson(value);
  if (fast !== undefined) return pythonEscaped(fast);
  const ancestors: object[] = [];

  const write = (input: unknown, where: string, key: string): string | undefined => {
    let v = input;
    if (v !== null && (typeof v === 'object' || typeof v === 'bigint')) {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, key);
    }
    switch (typeof v) {
      case 'string':
        return quote(v);
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'undefined':
        return undefined;
      case 'bigint':
        throw new PayloadError(`${where} is a BigInt, which JSON cannot represent: convert it to a string or number`);
      case 'function':
        throw new PayloadError(`${where} is a function, which cannot be sent: remove it from the payload`);
      case 'symbol':
        throw new PayloadError(`${where} is a Symbol, which cannot be sent: remove it from the payload`);
    }
    if (v === null) return 'null';
    const obj = v as object;
    if (obj instanceof Map || obj instanceof Set) {
      const kind = obj instanceof Map ? 'Map' : 'Set';
      throw new PayloadError(
        `${where} is a ${kind}, which JSON would silently empty: convert it first (Object.fromEntries / Array.from)`,
      );
    }
    if (ancestors.includes(obj)) {
      throw new PayloadError(`${where} refers back to itself (circular structure): it cannot be serialized to JSON`);
    }
    if (ancestors.length >= MAX_JSON_DEPTH) {
      // Deeper would exhaust the stack here, and Python's json.loads refuses it on the other side.
      const shown = where.length > 80 ? `${where.slice(0, 80)}…` : where;
      throw new PayloadError(`${path} is nested more than ${MAX_JSON_DEPTH} levels deep (at ${shown}): flatten it before sending`);
    }
    ancestors.push(obj);
    try {
      if (Array.isArray(obj)) {
        const items = obj.map((item, i) => write(item, `${where}[${i}]`, String(i)) ?? 'null');
        return `[${items.join(', ')}]`;
      }
      const members: string[] = [];
      for (const k of Object.keys(obj)) {
        const member = write((obj as Record<string, unknown>)[k], `${where}.${k}`, k);
        if (member !== undefined) members.push(`${quote(k)}: ${member}`);
      }
      return `{${members.join(', ')}}`;
    } finally {
      ancestors.pop();
    }
  };

  const text = write(value, path, '');
  if (text === undefined) throw new PayloadError(`${path} is undefined: it has no JSON form`);
  return text;
}

/** Thrown inside fastPythonJson when the value needs the checking serializer (it will refuse it, or be deep). */
const NEEDS_SLOW_PATH = Symbol('needs the checking serializer');
/** Deeper values take the checking serializer, which enforces the depth limit. */
const FAST_MAX_DEPTH = 64;
/** Object keys repeat from event to event; their JSON forms are kept (bounded). */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;

/**
 * The same text as toPythonJson's checking serializer (before Python's escaping of characters
 * from DEL up, left to the caller: see pythonEscaped), for the values that serialize without
 * error (the benchmark found the checking one to be a sixth of diaspora-out's CPU time: it builds
 * a path string for every value). Returns undefined when the value has no JSON form, and throws
 * nothing: anything unusual (function, symbol, BigInt, Map, Set, a cycle, deep nesting) is left
 * to the checking serializer, which names where the problem is.
 */
function fastPythonJson(value: unknown): string | undefined {
  const ancestors: object[] = [];
  const write = (input: unknown, key: string): string | undefined => {
    let v = input;
    if (typeof v === 'object' && v !== null) {
      const toJSON = (v as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') v = (toJSON as (k: string) => unknown).call(v, key);
    }
    switch (typeof v) {
      case 'string':
        // Escaped for Python once, on the whole text, below.
        return JSON.stringify(v);
      case 'number':
        // For finite numbers String() and JSON.stringify() give the same text; String() is faster.
        return Number.isFinite(v) ? String(v) : 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'undefined':
        return undefined;
      case 'object':
        break;
      default:
        throw NEEDS_SLOW_PATH;
    }
    if (v === null) return 'null';
    const obj = v as object;
    if (obj instanceof Map || obj instanceof Set || ancestors.length >= FAST_MAX_DEPTH || ancestors.includes(obj)) throw NEEDS_SLOW_PATH;
    ancestors.push(obj);
    let out: string;
    if (Array.isArray(obj)) {
      out = '[';
      for (let i = 0; i < obj.length; i += 1) {
        const item = write(obj[i], String(i));
        out += (i === 0 ? '' : ', ') + (item === undefined ? 'null' : item);
      }
      out += ']';
    } else {
      out = '{';
      let first = true;
      for (const k of Object.keys(obj)) {
        const member = write((obj as Record<string, unknown>)[k], k);
        if (member === undefined) continue;
        let quoted = quotedKeys.get(k);
        if (quoted === undefined) {
          quoted = JSON.stringify(k);
          if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(k, quoted);
        }
        out += (first ? '' : ', ') + quoted + ': ' + member;
        first = false;
      }
      out += '}';
    }
    ancestors.pop();
    return out;
  };
  let text: string | undefined;
  try {
    text = write(value, '');
  } catch (err) {
    if (err === NEEDS_SLOW_PATH) return undefined;
    throw err;
  }
  return text;
}

/** Characters from DEL up only occur inside string literals; Python escapes them (ensure_ascii). */
function pythonEscaped(text: string): string {
  return Buffer.byteLength(text) !== text.length || text.includes('\u007f') ? text.replace(PYTHON_ESCAPED, pythonEscape) : text;
}

/** JSON string literal with Python's ensure_ascii escaping (everything outside space..~ escaped). */
function quote(s: string): string {
  return JSON.stringify(s).replace(PYTHON_ESCAPED, pythonEscape);
}

const PYTHON_ESCAPED = /[\u007f-\uffff]/g;

function pythonEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * Tombstone → null. 'buffer' → the bytes; 'string' → UTF-8 text; 'json' → parsed or a
 * PayloadError naming the record; 'auto' → parsed when it is JSON, else text when it is valid
 * UTF-8, else the bytes (binary payloads such as Protobuf are not mangled).
 */
export function decodePayload(value: Buffer | null, format: PayloadFormat, origin?: RecordOrigin): unknown {
  if (value === null) return null;
  switch (format) {
    case 'buffer':
      return value;
    case 'string':
      return value.toString('utf8');
    case 'json': {
      const text = value.toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw new PayloadError(
          `the event ${describeOrigin(origin)}is not valid JSON (${(err as Error).message}); ` +
            `choose the "auto", "string" or "buffer" output format to receive it`,
        );
      }
    }
    case 'auto': {
      if (!isUtf8(value)) return value;
      const text = value.toString('utf8');
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
    default:
      throw new PayloadError(`unknown payload format "${String(format)}": use auto, json, string or buffer`);
  }
}

function describeOrigin(origin: RecordOrigin | undefined): string {
  if (!origin) return '';
  const parts = [`topic "${origin.topic}"`];
  if (origin.partition !== undefined) parts.push(`partition ${origin.partition}`);
  if (origin.offset !== undefined) parts.push(`offset ${origin.offset}`);
  return `at ${parts.join(', ')} `;
}

/** undefined/null → no key; string → UTF-8; Buffer → bytes; finite number → its decimal text. */
export function encodeKey(key: unknown): Buffer | null {
  if (key === undefined || key === null) return null;
  if (Buffer.isBuffer(key)) return key;
  if (key instanceof Uint8Array) return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (typeof key === 'number') {
    if (!Number.isFinite(key)) throw new PayloadError(`msg.key is ${String(key)}: a numeric key must be finite`);
    return Buffer.from(String(key), 'utf8');
  }
  throw new PayloadError(`msg.key must be a string, Buffer or number, not ${describeType(key)}`);
}

export type EncodedHeaders = Record<string, Buffer | Buffer[]>;

/**
 * A headers object whose values are strings or Buffers (or arrays of them, for a repeated header).
 * undefined/null → no headers; an undefined value leaves that header out.
 */
export function encodeHeaders(headers: unknown): EncodedHeaders | undefined {
  if (headers === undefined || headers === null) return undefined;
  if (typeof headers !== 'object' || Array.isArray(headers) || Buffer.isBuffer(headers)) {
    throw new PayloadError(`msg.headers must be an object of string or Buffer values, not ${describeType(headers)}`);
  }
  const out: EncodedHeaders = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value)
      ? value.map((item, i) => headerValue(item, `msg.headers.${name}[${i}]`))
      : headerValue(value, `msg.headers.${name}`);
  }
  return out;
}

function headerValue(value: unknown, where: string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new PayloadError(
    `${where} must be a string or Buffer, not ${describeType(value)}` +
      (typeof value === 'number' || typeof value === 'boolean' ? ` (use String(${String(value)}))` : ''),
  );
}

/** Consumed headers as text (UTF-8), or as the raw Buffers when `format` is 'buffer'. */
export function decodeHeaders(
  headers: Record<string, Buffer | Buffer[] | undefined>,
  format: 'string' | 'buffer' = 'string',
): Record<string, string | string[] | Buffer | Buffer[]> {
  const out: Record<string, string | string[] | Buffer | Buffer[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (format === 'buffer') out[name] = value;
    else out[name] = Array.isArray(value) ? value.map((v) => v.toString('utf8')) : value.toString('utf8');
  }
  return out;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}
