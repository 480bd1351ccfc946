import { fileURLToPath } from 'node:url';

/**
 * Scripts both of the service's pages use (`public/shared/`): each page's router serves this folder under its own
 * path, with its own headers, so the pages never depend on each other's routes being there.
 */
export const SHARED_PAGE_SCRIPTS_DIR = fileURLToPath(new URL('../../public/shared/', import.meta.url));

/** Where a page's router serves them, below its own path. */
export const SHARED_PAGE_SCRIPTS_PATH = '/shared';
