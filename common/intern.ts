/**
 * `s` as V8's internalized copy. The strings JSON.parse returns for short values (a frame's room,
 * its node id, an event name) are internalized, and comparing two internalized strings is a
 * pointer comparison, where a per-connection or per-frame copy is read char by char (issue 17:
 * the receive path compares a few per delivery). A property key is always internalized.
 */
export function internalized(s: string): string {
  for (const k in { [s]: 0 }) return k;
  return s;
}
