/**
 * Text that came from outside — a peer's entry, a request's claims, a key name — is quoted in error
 * messages, and those messages are stored (a finding's detail, a refused queue row's reason), signed
 * (a finding) and printed. PostgreSQL refuses U+0000 in `text`, a lone surrogate cannot be encoded
 * as UTF-8 (or signed as JCS), and a terminal acts on control characters. So a message quotes such
 * text only through `escapeControls`: C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F), the line and
 * paragraph separators, the bidirectional controls and every unpaired surrogate are written as
 * `\uXXXX`, which is also their JSON escape.
 */
// With the `u` flag a class of surrogates matches only an unpaired one: a pair is one code point.
// eslint-disable-next-line no-control-regex
const ESCAPED = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/gu;
// eslint-disable-next-line no-control-regex
const ANY_ESCAPED = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/u;

/** `text` with every control character and unpaired surrogate written as `\uXXXX`: one printable line. */
export function escapeControls(text: string): string {
  if (!ANY_ESCAPED.test(text)) return text;
  return text.replace(ESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
