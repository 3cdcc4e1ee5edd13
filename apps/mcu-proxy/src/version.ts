import pkg from '../package.json';

/** Our version: `/welcome`, hello `server.version`, the `Server` header. */
export const PROXY_VERSION: string = pkg.version;
