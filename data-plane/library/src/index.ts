/**
 * The library service of a tenant's data plane (the knowledge ocean): the service factory
 * the data-plane host mounts at `/library`, and the pieces it is made of.
 */
export { createLibraryServiceFactory } from './library-service.ts';
export { createLibrary, type Library, type LibraryOptions } from './library.ts';
