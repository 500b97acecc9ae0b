export {
  createDataPlaneHost,
  type DataPlaneHost,
  type DataPlaneHostOptions,
  type HostHealth,
} from './data-plane-host.ts';
export type {
  DataPlaneService,
  DataPlaneServiceContext,
  DataPlaneServiceFactory,
} from './data-plane-service.ts';
export {
  readHostEnvironment,
  type HostEnvironment,
  type HostEnvironmentResult,
} from './host-environment.ts';
export { createJsonLineLogger, type HostLogger, type LogSink } from './host-logger.ts';
export {
  HOST_PROBLEM_TYPE_BASE,
  sendJson,
  sendProblem,
  type HostProblem,
} from './problem-response.ts';
