import type { BusSubscription } from './bus';
import type { Handler, SubjectState } from './delivery-queue';

/**
 * Adds `handler` to the handlers of `subject` in `subjects`, making the subject's state with
 * `create` on its first handler. The returned subscription removes the handler (once) and, with
 * the subject's last handler, the subject, handing its state to `release` (what the bus keeps
 * per subject besides the handlers, e.g. the NATS subscription).
 */
export function addSubjectHandler<S extends SubjectState>(
  subjects: Map<string, S>,
  subject: string,
  handler: Handler,
  create: (subject: string) => S,
  release?: (state: S) => void,
): BusSubscription {
  let state = subjects.get(subject);
  if (state === undefined) {
    state = create(subject);
    subjects.set(subject, state);
  }
  // A wrapper per subscription, so subscribing the same function twice yields two deliveries.
  const entry: Handler = (m) => handler(m);
  state.handlers.add(entry);
  const owner = state;
  let active = true;
  return {
    unsubscribe: () => {
      if (!active) return;
      active = false;
      owner.handlers.delete(entry);
      if (owner.handlers.size > 0 || subjects.get(subject) !== owner) return;
      subjects.delete(subject);
      release?.(owner);
    },
  };
}
