import type { ClientSession } from './client-session';

/**
 * What one feature tells the others about a session between its creation and its end (those
 * two are the hub's `SessionListener`). Producers get this object in their constructor and
 * call it; consumers add a listener in theirs, so no part needs a hook set after construction.
 */
export interface SessionEventListener {
  /** The session left its room (the MCU releases its publishers and subscribers). */
  leftRoom?(session: ClientSession): void;
  /** Nextcloud or the session's internal client changed its in-call flags or permissions. */
  changed?(session: ClientSession): void;
}

export class SessionEvents {
  readonly #listeners: SessionEventListener[] = [];

  addListener(listener: SessionEventListener): void {
    this.#listeners.push(listener);
  }

  leftRoom(session: ClientSession): void {
    for (const l of this.#listeners) l.leftRoom?.(session);
  }

  changed(session: ClientSession): void {
    for (const l of this.#listeners) l.changed?.(session);
  }
}
