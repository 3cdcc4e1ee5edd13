/**
 * Turns a raw etcd value into what a consumer stores; throws for a value to be ignored. Values
 * are hostile input: whoever can write to etcd can write anything.
 */
export type ValueDecoder<T> = (raw: Buffer, key: string) => T;

/**
 * A decoder for JSON values (every value layout upstream keeps in etcd is JSON): parses UTF-8
 * JSON, then hands the result to `validate` (e.g. a zod schema's `parse`), which throws to reject.
 */
export function jsonValue<T = unknown>(validate: (value: unknown, key: string) => T = (v) => v as T): ValueDecoder<T> {
  return (raw, key) => validate(JSON.parse(raw.toString('utf8')) as unknown, key);
}

/** A decoder for plain text values (e.g. PEM public keys of proxy tokens). */
export function textValue(): ValueDecoder<string> {
  return (raw) => raw.toString('utf8');
}
