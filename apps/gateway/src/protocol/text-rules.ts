import { GatewayError } from './gateway-error';

/**
 * What the gateway accepts as text from a stranger (issue #16). A terminal acts on control
 * characters — ESC starts a sequence that can erase a line, CR returns to its start — and Unicode
 * bidirectional controls reorder what is shown, so a text that reaches an administrator's screen
 * (a Device Profile's Description in `mesh device pending`) could print a fake request id and
 * witness where the real ones are compared. Such characters MUST be refused before anything is
 * stored: C0 (U+0000–U+001F, TAB and line endings included), DEL, C1 (U+0080–U+009F), the line and
 * paragraph separators U+2028/U+2029 and the bidirectional controls U+061C, U+200E–U+200F,
 * U+202A–U+202E, U+2066–U+2069.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

/** The first control character of `text` as `U+XXXX`, or undefined when it has none. */
export function controlCharacterIn(text: string): string | undefined {
  const found = CONTROL.exec(text);
  return found === null
    ? undefined
    : `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Refuses `text` with GatewayError `request.control-character` (400), naming `what` and the
 * character, when it holds a control character; returns it unchanged otherwise.
 */
export function checkPlainText(text: string, what: string): string {
  const found = controlCharacterIn(text);
  if (found !== undefined)
    throw new GatewayError(
      'request.control-character',
      `${what} contains the control character ${found}; only printable text is accepted`,
    );
  return text;
}

/**
 * A connection request id as ConnectStart issues it: 16 random bytes in base64url, 22 characters.
 * MUST be checked before any lookup: a NUL reached PostgreSQL and answered 500 (issue #16).
 */
export const REQUEST_ID = /^[A-Za-z0-9_-]{22}$/;
