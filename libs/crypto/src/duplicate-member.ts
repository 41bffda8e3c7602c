/**
 * Duplicate member names in JSON text (issue #14, hole 5). RFC 8259 §4 only says names SHOULD be
 * unique, and `JSON.parse` silently keeps the LAST of two equal names, so a signed payload holding
 * `{"Device": A, …, "Device": B}` would mean B to this code and possibly A to another reader of the same
 * signed bytes. Everything signed here (JWS protected headers and payloads) MUST have unique names;
 * parsers call this after `JSON.parse` accepted the text and refuse what it finds.
 */

/**
 * The first member name that appears twice in one object of `text`, compared after unescaping (so
 * `"a"` and `"\u0061"` are the same name), or undefined when every object's names are unique.
 * `text` MUST be JSON that `JSON.parse` accepted: the scan trusts its structure. Linear in its length.
 */
export function findDuplicateMember(text: string): string | undefined {
  // One entry per open container: the names seen so far for an object, undefined for an array.
  const open: (Set<string> | undefined)[] = [];
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c ? 2 : 1;
      const names = open[open.length - 1];
      if (expectName && names !== undefined) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b /* [ */) {
      open.push(undefined);
      expectName = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c /* , */) {
      expectName = open[open.length - 1] !== undefined;
    }
  }
  return undefined;
}
