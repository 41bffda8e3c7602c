import { ProfileAnswers } from './profile-answers';

describe('ProfileAnswers: answers kept for the snapshot of the log heads they were computed from', () => {
  it('gives an answer back only for the same snapshot object', () => {
    const s1 = {};
    let current: object = s1;
    const answers = new ProfileAnswers<string>(() => current);
    answers.set(s1, 'MA', 'answer-1');
    expect(answers.get(s1, 'MA')).toBe('answer-1');
    expect(answers.get({}, 'MA')).toBeUndefined();
    expect(answers.get(s1, 'MB')).toBeUndefined();
    const s2 = {};
    current = s2;
    expect(answers.get(s2, 'MA')).toBeUndefined();
    answers.set(s2, 'MA', 'answer-2');
    expect(answers.get(s2, 'MA')).toBe('answer-2');
    expect(answers.get(s1, 'MA')).toBeUndefined();
  });

  it('never keeps an answer computed from a snapshot that was replaced meanwhile', () => {
    const s1 = {};
    const s2 = {};
    let current: object = s2;
    const answers = new ProfileAnswers<string>(() => current);
    answers.set(s2, 'MA', 'new');
    answers.set(s1, 'MA', 'old'); // a slow request that started before the refresh
    expect(answers.get(s2, 'MA')).toBe('new');
    expect(answers.get(s1, 'MA')).toBeUndefined();
    current = s1; // (never happens: snapshots do not come back, but the rule is identity)
    expect(answers.get(s1, 'MA')).toBeUndefined();
  });

  it('keeps at most its limit, least recently used out first', () => {
    const s = {};
    const answers = new ProfileAnswers<number>(() => s, 2);
    answers.set(s, 'a', 1);
    answers.set(s, 'b', 2);
    expect(answers.get(s, 'a')).toBe(1);
    answers.set(s, 'c', 3);
    expect(answers.get(s, 'b')).toBeUndefined();
    expect(answers.get(s, 'a')).toBe(1);
    expect(answers.get(s, 'c')).toBe(3);
  });
});
