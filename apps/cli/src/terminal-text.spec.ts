import { escapeControls, terminalOutput } from './terminal-text';

/** Issue #16: nothing from outside reaches the terminal raw. */
describe('terminal text', () => {
  it.each([
    ['\u001b[2K\rfake', '\\u001b[2K\\u000dfake'],
    ['a\nb\tc', 'a\\u000ab\\u0009c'],
    ['\u0000\u007f\u009b', '\\u0000\\u007f\\u009b'],
    ['txt\u202eexe', 'txt\\u202eexe'],
    ["Alice's phone — téléphone 電話 🙂", "Alice's phone — téléphone 電話 🙂"],
  ])('escapeControls(%j) = %j', (text, shown) => {
    expect(escapeControls(text)).toBe(shown);
  });

  it('keeps the line breaks of the output and escapes the rest; JSON stays JSON with the same value', () => {
    expect(terminalOutput('line 1\nline\r2')).toBe('line 1\nline\\u000d2');
    const value = { d: 'x\u009b\u2028\u202ey' };
    expect(JSON.parse(terminalOutput(JSON.stringify(value)))).toEqual(value);
  });
});
