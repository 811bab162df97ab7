// libolm 3.2.15 in a page: its Emscripten build (olm.js + olm.wasm from node_modules, served by
// the test server), loaded as a classic script, initialised once. Used by the test page (through
// platform.mjs) and the benchmark page (bench.html).

let olmPromise;
/** Resolves to the initialised global `Olm`. */
export function loadOlm() {
  olmPromise ??= new Promise((resolve, reject) => {
    const base = new URL('../node_modules/@matrix-org/olm/', import.meta.url);
    const script = document.createElement('script');
    script.src = new URL('olm.js', base).href;
    script.onerror = () => reject(new Error(`could not load ${script.src}`));
    script.onload = () =>
      globalThis.Olm.init({ locateFile: () => new URL('olm.wasm', base).href }).then(() => resolve(globalThis.Olm), reject);
    document.head.append(script);
  });
  return olmPromise;
}
