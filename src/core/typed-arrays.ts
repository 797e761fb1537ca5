/** Typed arrays one after another, in one new array of the kind `Type` makes. */
export function concatTyped<T extends Uint8Array | Float32Array>(parts: readonly ArrayLike<number>[], Type: new (length: number) => T): T {
  const out = new Type(parts.reduce((length, part) => length + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
