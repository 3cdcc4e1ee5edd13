/**
 * Roughly the length of `JSON.stringify(value)`, without building the string: string lengths,
 * key lengths, and a fixed 8 bytes per number/boolean/null. The loopback bus charges its queue
 * budget with this (it never serialises); iterative, so a deeply nested object cannot overflow
 * the stack, and it stops once the size passes `limit` (the caller drops the message then), so a
 * cyclic object ends too. Costs about a seventh of serialising.
 */
export function estimateJsonSize(value: unknown, limit = Infinity): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && size <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') {
      size += v.length + 2;
    } else if (typeof v !== 'object' || v === null) {
      size += 8;
    } else if (Array.isArray(v)) {
      size += 2 + v.length;
      for (const item of v) stack.push(item);
    } else {
      size += 2;
      for (const key in v) {
        size += key.length + 4;
        stack.push((v as Record<string, unknown>)[key]);
      }
    }
  }
  return size;
}
