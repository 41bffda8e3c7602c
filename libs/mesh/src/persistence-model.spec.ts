import fc from 'fast-check';
import { applyPublish, type ObjectState, type PublishOperation } from './persistence-model';

describe('applyPublish (000 §3.2.1, as narrowed in mesh-model.md)', () => {
  const active: ObjectState<string> = { status: 'active', value: 'a' };
  const inactive: ObjectState<string> = { status: 'inactive' };

  it.each<[string, ObjectState<string> | undefined, PublishOperation<string>, string]>([
    ['create from undefined', undefined, { action: 'create', value: 'x' }, 'active(x)'],
    ['create of active', active, { action: 'create', value: 'x' }, 'persistence.exists'],
    ['create of deleted', inactive, { action: 'create', value: 'x' }, 'persistence.exists'],
    ['update of active', active, { action: 'update', value: 'y' }, 'active(y)'],
    ['update of undefined', undefined, { action: 'update', value: 'y' }, 'persistence.undefined'],
    ['update of deleted', inactive, { action: 'update', value: 'y' }, 'persistence.inactive'],
    ['delete of active', active, { action: 'delete' }, 'inactive'],
    ['delete of undefined', undefined, { action: 'delete' }, 'persistence.undefined'],
    ['delete of deleted', inactive, { action: 'delete' }, 'persistence.inactive'],
  ])('%s', (_name, current, operation, expected) => {
    const outcome = applyPublish(current, operation);
    const seen = !outcome.ok
      ? outcome.code
      : outcome.next.status === 'active'
        ? `active(${outcome.next.value})`
        : 'inactive';
    expect(seen).toBe(expected);
  });

  // A reference model written differently: a state is one of three words, and the table of 000 §3.2.1
  // (with update restricted to active) is spelled out as allowed pairs.
  type Word = 'undefined' | 'active' | 'inactive';
  const ALLOWED: Record<string, Word> = {
    'undefined/create': 'active',
    'active/update': 'active',
    'active/delete': 'inactive',
  };

  it('agrees with a reference model over any sequence of operations on a few objects', () => {
    const operation = fc.record({
      id: fc.constantFrom('a', 'b', 'c'),
      op: fc.oneof(
        fc.record({ action: fc.constant('create' as const), value: fc.nat(9) }),
        fc.record({ action: fc.constant('update' as const), value: fc.nat(9) }),
        fc.record({ action: fc.constant('delete' as const) }),
      ),
    });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (ops) => {
        const real = new Map<string, ObjectState<number>>();
        const model = new Map<string, { word: Word; value?: number }>();
        for (const { id, op } of ops) {
          const before = model.get(id)?.word ?? 'undefined';
          const after = ALLOWED[`${before}/${op.action}`];
          const outcome = applyPublish(real.get(id), op);
          expect(outcome.ok).toBe(after !== undefined);
          if (!outcome.ok) {
            expect(outcome.code).toBe(
              before === 'undefined'
                ? 'persistence.undefined'
                : op.action === 'create'
                  ? 'persistence.exists'
                  : 'persistence.inactive',
            );
            continue;
          }
          real.set(id, outcome.next);
          model.set(id, { word: after!, ...('value' in op ? { value: op.value } : {}) });
        }
        for (const [id, m] of model) {
          const state = real.get(id);
          expect(state?.status).toBe(m.word);
          if (state?.status === 'active') expect(state.value).toBe(m.value);
        }
      }),
      { numRuns: 300 },
    );
  });
});
