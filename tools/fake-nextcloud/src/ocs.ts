import type { ServerResponse } from 'node:http';

/** Content type of every Nextcloud JSON answer. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** OCS meta block; `statuscode` 200 with `status` "ok" on success. */
export interface OcsMeta {
  status: string;
  statuscode: number;
  message: string;
}

/** Successful OCS meta (OCS v2 API). */
export const OCS_OK: OcsMeta = { status: 'ok', statuscode: 200, message: 'OK' };

/** `{"ocs":{"meta":…,"data":…}}` as Nextcloud's OCS controllers answer. */
export function ocsEnvelope(data: unknown, meta: OcsMeta = OCS_OK): string {
  return JSON.stringify({ ocs: { meta, data } });
}

/** Writes `body` with the Nextcloud JSON content type. */
export function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
