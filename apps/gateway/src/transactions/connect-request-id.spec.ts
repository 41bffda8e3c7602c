import { newRequestId } from './connect-start.transaction';

describe('connection request ids', () => {
  it('are 128-bit base64url, distinct, and never start with "-" (a command line takes that for an option)', () => {
    // 4,096 ids: with one in 64 starting with '-' before the fix, this failed every time.
    const ids = Array.from({ length: 4096 }, newRequestId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
