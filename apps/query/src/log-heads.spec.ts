import {
  LogHeads,
  neverBackwards,
  type LogHead,
  type LogHeadsSnapshot,
  type RefreshOutcome,
} from './log-heads';

/** A snapshot whose `self` head is at `part` (checkpoint text `cp<part>`), `cosigned` at another part. */
function at(part: number | undefined, cosigned?: number): LogHeadsSnapshot {
  const head = (p: number) => ({
    seal: { part: p, first: 0, size: p + 1, timeMs: p, note: `n${p}\n` },
    checkpoint: `cp${p}`,
  });
  const self: LogHead = {
    latest: part === undefined ? undefined : head(part),
    cosigned: cosigned === undefined ? undefined : head(cosigned),
  };
  return { portal: undefined, peers: [], quorum: 0, heads: new Map([['self', self]]) };
}

const partOf = (s: LogHeadsSnapshot) => s.heads.get('self')?.latest?.seal.part;

/** A loader whose reads the test answers one by one, and a clock the test moves. */
function harness(maxAgeMs: number) {
  let clock = 1000;
  const reads: Array<{ resolve: (s: LogHeadsSnapshot) => void; reject: (e: Error) => void }> = [];
  const outcomes: RefreshOutcome[] = [];
  const heads = new LogHeads(
    () => new Promise<LogHeadsSnapshot>((resolve, reject) => reads.push({ resolve, reject })),
    maxAgeMs,
    () => clock,
    (o) => outcomes.push(o),
  );
  const flush = () => new Promise((r) => setImmediate(r));
  return {
    heads,
    reads,
    outcomes,
    flush,
    advance: (ms: number) => (clock += ms),
    /** Answers the oldest pending read. */
    answer: async (s: LogHeadsSnapshot) => {
      reads.shift()!.resolve(s);
      await flush();
    },
  };
}

describe('LogHeads', () => {
  it('reads once for concurrent requests, then answers from memory within the bound', async () => {
    const h = harness(50);
    const a = h.heads.current();
    const b = h.heads.current();
    await h.flush();
    expect(h.reads).toHaveLength(1);
    await h.answer(at(3));
    expect((await Promise.all([a, b])).map(partOf)).toEqual([3, 3]);
    h.advance(37); // under three quarters of the bound: no read at all
    expect(partOf(await h.heads.current())).toBe(3);
    expect(h.reads).toHaveLength(0);
    expect(h.outcomes).toEqual(['advanced']);
  });

  it('reads ahead, without waiting, past three quarters of the bound; a seal shows once that read completes', async () => {
    const h = harness(50);
    const first = h.heads.current();
    await h.flush();
    await h.answer(at(3));
    await first;
    h.advance(38);
    expect(partOf(await h.heads.current())).toBe(3); // served at once, a read started
    expect(h.reads).toHaveLength(1);
    await h.answer(at(4)); // the new seal
    expect(partOf(await h.heads.current())).toBe(4);
  });

  it('a request past the bound waits for a read that started after it arrived (refresh on seal)', async () => {
    const h = harness(50);
    const first = h.heads.current();
    await h.flush();
    await h.answer(at(3));
    await first;
    h.advance(60);
    let served: number | undefined;
    const late = h.heads.current().then((s) => (served = partOf(s)));
    await h.flush();
    expect(served).toBeUndefined();
    await h.answer(at(5));
    await late;
    expect(served).toBe(5);
  });

  it('a read in flight that started before the bound does not serve a request; the next read does', async () => {
    const h = harness(0);
    const first = h.heads.current();
    await h.flush();
    h.advance(1);
    let served: number | undefined;
    const second = h.heads.current().then((s) => (served = partOf(s)));
    await h.answer(at(3)); // started before `second` arrived
    await first;
    expect(served).toBeUndefined();
    expect(h.reads).toHaveLength(1);
    await h.answer(at(4));
    await second;
    expect(served).toBe(4);
  });

  it('never goes backwards: a read that says an older part keeps the head it had', async () => {
    const h = harness(0);
    const one = h.heads.current();
    await h.flush();
    await h.answer(at(7, 5));
    expect(partOf(await one)).toBe(7);
    h.advance(1);
    const two = h.heads.current();
    await h.flush();
    await h.answer(at(6, 6)); // a lagging read
    const seen = await two;
    expect(partOf(seen)).toBe(7);
    expect(seen.heads.get('self')?.latest?.checkpoint).toBe('cp7');
    expect(seen.heads.get('self')?.cosigned?.seal.part).toBe(6);
    expect(h.outcomes).toEqual(['advanced', 'advanced']);
  });

  it('a failed read fails the requests that waited for it and keeps the snapshot; the next request reads again', async () => {
    const h = harness(0);
    const one = h.heads.current();
    await h.flush();
    await h.answer(at(2));
    await one;
    h.advance(1);
    const two = h.heads.current();
    await h.flush();
    h.reads.shift()!.reject(new Error('connection lost'));
    await expect(two).rejects.toThrow('connection lost');
    h.advance(1);
    const three = h.heads.current();
    await h.flush();
    await h.answer(at(2));
    expect(partOf(await three)).toBe(2);
    expect(h.outcomes).toEqual(['advanced', 'failed', 'unchanged']);
  });
});

describe('neverBackwards', () => {
  it.each([
    ['a higher part', at(4), at(5), 5],
    ['the same part (more cosignatures)', at(4), at(4), 4],
    ['a lower part', at(4), at(3), 4],
    ['no seal where there was one', at(4), at(undefined), 4],
    ['a first seal', at(undefined), at(1), 1],
  ])('%s', (_, previous, next, part) => {
    expect(partOf(neverBackwards(previous, next))).toBe(part);
  });

  it('keeps `cosigned` within the kept head', () => {
    const kept = neverBackwards(at(4, 2), at(3, 3)).heads.get('self');
    expect(kept?.cosigned?.seal.part).toBe(3);
    expect(neverBackwards(at(4, 4), at(3)).heads.get('self')?.cosigned?.seal.part).toBe(4);
  });

  it('keeps the same snapshot object while a read finds nothing moved, and a new one once something did', async () => {
    const h = harness(50);
    const first = h.heads.current();
    await h.flush();
    await h.answer(at(3, 2));
    const a = await first;
    expect(h.heads.held()).toBe(a);
    h.advance(60);
    const second = h.heads.current();
    await h.flush();
    await h.answer(at(3, 2)); // an equal read: profile answers derived from `a` stay valid
    expect(await second).toBe(a);
    h.advance(60);
    const third = h.heads.current();
    await h.flush();
    await h.answer(at(3, 3)); // a cosignature arrived: a new object
    const c = await third;
    expect(c).not.toBe(a);
    h.advance(60);
    const fourth = h.heads.current();
    await h.flush();
    await h.answer({ ...at(3, 3), peers: [{ id: 'p2' } as never] }); // the roster changed
    expect(await fourth).not.toBe(c);
    expect(h.outcomes.slice(-3)).toEqual(['unchanged', 'advanced', 'advanced']);
  });
});
