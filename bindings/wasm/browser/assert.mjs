// The part of `node:assert/strict` the portable tests use, for the browser page (its import map
// maps `node:assert/strict` here). Strict semantics, as in Node: Object.is equality, and deep
// equality that compares prototypes, typed-array contents and own enumerable keys.

export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

const show = (v) => {
  try {
    return typeof v === 'string' ? JSON.stringify(v) : ArrayBuffer.isView(v) ? `${v.constructor.name}[${v}]` : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
};

function fail(message, fallback) {
  if (message instanceof Error) throw message;
  throw new AssertionError(message ? `${message} (${fallback})` : fallback);
}

function deepStrict(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (ArrayBuffer.isView(a)) {
    if (a.byteLength !== b.byteLength) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.every((v, i) => v === y[i]);
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepStrict(a[k], b[k]));
}

function assert(value, message) {
  ok(value, message);
}

export function ok(value, message) {
  if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}

export function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) fail(message, `${show(actual)} !== ${show(expected)}`);
}

export function notEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail(message, `both are ${show(actual)}`);
}

export function deepEqual(actual, expected, message) {
  if (!deepStrict(actual, expected)) fail(message, `${show(actual)} is not deeply equal to ${show(expected)}`);
}

export function match(string, regexp, message) {
  if (typeof string !== 'string' || !regexp.test(string)) fail(message, `${show(string)} does not match ${regexp}`);
}

export function throws(fn, expected, message) {
  try {
    fn();
  } catch (e) {
    if (expected === undefined) return;
    if (typeof expected === 'function' && expected.prototype !== undefined && e instanceof expected) return;
    if (expected instanceof RegExp && expected.test(String(e))) return;
    fail(message, `threw ${e}, which does not match ${expected}`);
  }
  fail(message, 'expected a throw');
}

Object.assign(assert, { ok, equal, notEqual, deepEqual, match, throws, strict: assert, AssertionError });
export default assert;
