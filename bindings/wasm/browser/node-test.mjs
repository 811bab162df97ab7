// `node:test`'s `test(name, fn)` for the browser page (its import map maps `node:test` here):
// tests register themselves while their modules load; the page then runs them in order.

export const registered = [];

export function test(name, fn) {
  registered.push({ name, fn, file: new Error().stack?.match(/\/([\w.-]+\.test\.mjs)/)?.[1] ?? '?' });
}

export default test;
