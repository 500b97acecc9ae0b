import type { DataPlaneServiceFactory } from './data-plane-service.ts';

/**
 * The services the host can run, by mount name. Empty until the services land
 * (orchestrator, library, sapiens, payments each add their factory here); an enabled
 * service without a factory answers 404 "Service not deployed".
 */
export const DATA_PLANE_SERVICE_FACTORIES: Readonly<Record<string, DataPlaneServiceFactory>> = {};
