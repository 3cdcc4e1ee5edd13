import type { ClientSession } from '../session/client-session';

/** All live sessions of this node, by private (resume) id and by public id. */
export class SessionRegistry {
  readonly #byPrivate = new Map<string, ClientSession>();
  readonly #byPublic = new Map<string, ClientSession>();
  /** backend id -> number of `client` sessions (session limits count only those). */
  readonly #clientCounts = new Map<string, number>();

  get size(): number {
    return this.#byPublic.size;
  }

  add(session: ClientSession): void {
    // A virtual session's private id is never handed out, and it cannot be resumed.
    if (session.clientType !== 'virtual') this.#byPrivate.set(session.privateId, session);
    this.#byPublic.set(session.publicId, session);
    if (session.clientType === 'client') {
      this.#clientCounts.set(session.backend.id, this.clientCount(session.backend.id) + 1);
    }
  }

  remove(session: ClientSession): boolean {
    if (this.#byPublic.get(session.publicId) !== session) return false;
    if (this.#byPrivate.get(session.privateId) === session) this.#byPrivate.delete(session.privateId);
    this.#byPublic.delete(session.publicId);
    if (session.clientType === 'client') {
      this.#clientCounts.set(session.backend.id, this.clientCount(session.backend.id) - 1);
    }
    return true;
  }

  byPrivateId(id: string): ClientSession | undefined {
    return this.#byPrivate.get(id);
  }

  byPublicId(id: string): ClientSession | undefined {
    return this.#byPublic.get(id);
  }

  clientCount(backendId: string): number {
    return this.#clientCounts.get(backendId) ?? 0;
  }

  all(): IterableIterator<ClientSession> {
    return this.#byPublic.values();
  }
}
