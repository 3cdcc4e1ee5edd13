import type { SfuStreamSelection, SfuStreamType } from './sfu';

/** `requestoffer` / `sendoffer` / `selectStream` payload → selection; throws on wrong types (upstream). */
export function streamSelection(payload: Record<string, unknown> | undefined): SfuStreamSelection | undefined {
  if (!payload) return undefined;
  const selection: SfuStreamSelection = {};
  for (const key of ['substream', 'temporal'] as const) {
    const value = payload[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${key}: unsupported value ${JSON.stringify(value)}`);
    selection[key] = Math.trunc(value);
  }
  for (const key of ['audio', 'video'] as const) {
    const value = payload[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new Error(`${key}: unsupported value ${JSON.stringify(value)}`);
    selection[key] = value;
  }
  return Object.keys(selection).length === 0 ? undefined : selection;
}

/** Only these can be published and subscribed (upstream: `audio` is "Unsupported stream type"). */
export function isStreamType(roomType: string): roomType is SfuStreamType {
  return roomType === 'video' || roomType === 'screen';
}
