import { escapeControls } from '@cryptomesh/crypto/text';

/**
 * What `mesh` prints is read on a terminal, and a terminal acts on control characters: ESC starts a
 * sequence that can erase a line or move the cursor, CR returns to the start of the line, and the
 * Unicode bidirectional controls reorder what is shown. Text a stranger or a portal sent — a
 * device's description, a request id, a portal's error message — could then print a fake request id
 * and witness exactly where the administrator compares them (issue #16).
 *
 * C0 controls (U+0000–U+001F, TAB, CR and LF included), DEL, C1 controls (U+0080–U+009F), the line
 * and paragraph separators and the bidirectional controls are shown as `\uXXXX`, which a person can
 * read and which is also the JSON escape of the same character, so a JSON line stays valid JSON that
 * means the same. `escapeControls` (libs/crypto/src/text.ts) also writes unpaired surrogates so.
 */
export { escapeControls };

/**
 * What `mesh` writes to a terminal: the line breaks the program itself put in `output` are kept,
 * every other control character is escaped (`escapeControls`). Every line `mesh` prints goes
 * through this; a field that came from outside and must not break a line is escaped with
 * `escapeControls` where it is formatted.
 */
export function terminalOutput(output: string): string {
  return output.split('\n').map(escapeControls).join('\n');
}
