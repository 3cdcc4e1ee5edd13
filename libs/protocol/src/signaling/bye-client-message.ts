/** `{"type":"bye","bye":{}}`; the payload is optional and has no fields. */
export interface ByeClientMessage {
  id?: string;
  type: 'bye';
  bye?: Record<string, never>;
}
