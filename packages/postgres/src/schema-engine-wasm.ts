import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

/** Prisma's WASM schema engine reports Rust panics through this global (`set_message`). */
class WasmPanicRegistry {
  message = '';
  get(): string {
    return this.message;
  }
  set_message(message: string): void {
    this.message = `RuntimeError: ${message}`;
  }
}

declare global {
  var PRISMA_WASM_PANIC_REGISTRY: WasmPanicRegistry | undefined;
}

type WasmExports = Record<string, unknown>;

interface WasmBindings {
  __wbg_set_wasm(exports: WasmExports): void;
}

/** The slice of the WebAssembly global we use (the project's `lib` has no DOM/WebAssembly types). */
interface WebAssemblyRuntime {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, unknown>,
  ): Promise<{ instance: { exports: WasmExports } }>;
}

const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyRuntime }).WebAssembly;

let loading: Promise<typeof SchemaEngine> | undefined;

/**
 * Loads `@prisma/schema-engine-wasm` once per process and returns its `SchemaEngine` class.
 *
 * The package's entry imports the `.wasm` file as an ES module, which Node does not do without
 * a flag; so we instantiate the module ourselves against its JS glue (`schema_engine_bg.js`)
 * and hand it over with `__wbg_set_wasm`, as the entry would.
 */
export function loadSchemaEngine(): Promise<typeof SchemaEngine> {
  loading ??= (async () => {
    globalThis.PRISMA_WASM_PANIC_REGISTRY ??= new WasmPanicRegistry();
    const entry = fileURLToPath(import.meta.resolve('@prisma/schema-engine-wasm'));
    const wasmPath = entry.replace(/schema_engine\.js$/, 'schema_engine_bg.wasm');
    const { instance } = await webAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': bindings,
    });
    (bindings as unknown as WasmBindings).__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bindings.SchemaEngine;
  })();
  loading.catch(() => {
    loading = undefined;
  });
  return loading;
}

/** The schema engine's version (its prisma-engines commit), for logs and ADR checks. */
export async function schemaEngineVersion(): Promise<string> {
  await loadSchemaEngine();
  return bindings.version();
}

/**
 * Turns a failure of an engine call into an Error that carries the Rust panic message, if the
 * engine panicked (the JS side only sees `RuntimeError: unreachable`).
 */
export function describeEngineError(error: unknown, operation: string): Error {
  const registry = globalThis.PRISMA_WASM_PANIC_REGISTRY;
  const panic = registry?.get() ?? '';
  if (registry !== undefined) registry.message = '';
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'string'
        ? error
        : JSON.stringify(error);
  return new Error(
    `prisma schema engine: ${operation} failed: ${message}${panic === '' ? '' : `\n${panic}`}`,
    {
      cause: error,
    },
  );
}
