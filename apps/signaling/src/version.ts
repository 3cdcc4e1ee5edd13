import pkg from '../package.json';

/** Our version, reported in `welcome`, hello `server.version` and `/api/v1/welcome`. */
export const SERVER_VERSION: string = pkg.version;
/** `Server` header and backend `User-Agent`. */
export const SERVER_PRODUCT = `talk-signaling/${SERVER_VERSION}`;
