import type { ObservedVectorStore } from '../../core/observed-state.ts';
import type { VectorStoreAction } from '../../core/reconcile-action.ts';
import type { ComponentDriver } from '../../core/tenant-drivers.ts';

type VectorStoreDriver = ComponentDriver<ObservedVectorStore, VectorStoreAction>;

export interface VectorStoreEngineDriverDeps {
  /** pgvector (or exact search) in the tenant's database: the local platform's driver. */
  pgvector: VectorStoreDriver;
  /** A Milvus database per tenant, where the platform runs Milvus. */
  milvus: VectorStoreDriver | undefined;
}

/** The vector store the tenant's spec names (`resources.vectorStore.engine`). */
export function createVectorStoreEngineDriver(
  deps: VectorStoreEngineDriverDeps,
): VectorStoreDriver {
  const driverFor = (engine: 'pgvector' | 'milvus'): VectorStoreDriver => {
    if (engine === 'pgvector') return deps.pgvector;
    if (deps.milvus) return deps.milvus;
    throw new Error(
      'the tenant asks for Milvus, but this operator has no Milvus (CITADEL_MILVUS_ADDRESS unset)',
    );
  };
  return {
    observe(tenant) {
      const engine = tenant.spec.resources.vectorStore.engine;
      if (engine === 'milvus' && !deps.milvus)
        return Promise.resolve({ ready: false, engine: undefined });
      return driverFor(engine).observe(tenant);
    },
    apply(tenant, action) {
      return driverFor(tenant.spec.resources.vectorStore.engine).apply(tenant, action);
    },
  };
}
