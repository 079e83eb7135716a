/** DJB hash as list.c computes it: seed 5381, h*33 + byte with 32-bit wrap, top bit cleared. */
export function djbHash(s: string): number {
  let h = 5381;
  for (const byte of Buffer.from(s, "utf8")) {
    // list.c adds a plain `char`, which is signed on the targets uci runs on.
    const signed = byte > 127 ? byte - 256 : byte;
    h = (Math.imul(h, 33) + signed) >>> 0;
  }
  return h & 0x7fffffff;
}

/**
 * The name uci gives an anonymous section: the package's section counter after this section was
 * allocated, then the hash of the type (options are not attached yet when the name is made).
 */
export function anonymousName(counter: number, type: string): string {
  const n = counter.toString(16).padStart(2, "0");
  const h = (djbHash(type) % 65536).toString(16).padStart(4, "0");
  return `cfg${n}${h}`;
}
