// A payload nested thousands of levels deep passes the schemas (their loose
// objects don't descend) and then overflows the stack of whatever walks it
// recursively (mediasoup clones RTP parameters with JSON). Checked first,
// iteratively, so it is refused with a clear error instead.

export const MAX_PAYLOAD_DEPTH = 16;

/** Whether `value` has objects or arrays nested more than `maxDepth` levels deep. */
export function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= maxDepth) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
