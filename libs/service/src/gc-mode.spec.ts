import { gcMode } from './gc-mode';

describe('gcMode (the `gc` of a service’s listening line)', () => {
  it('is single-threaded when node was started with --single-threaded-gc or --single-threaded', () => {
    expect(gcMode(['--single-threaded-gc'])).toBe('single-threaded');
    expect(gcMode(['--no-deprecation', '--single_threaded_gc'])).toBe('single-threaded');
    expect(gcMode(['--single-threaded'])).toBe('single-threaded'); // no background tasks at all
    expect(gcMode(['--no-single-threaded-gc', '--single-threaded-gc'])).toBe('single-threaded');
  });

  it('is parallel otherwise, the last mention of the flag winning', () => {
    expect(gcMode([])).toBe('parallel');
    expect(gcMode(['--cpu-prof', '--max-old-space-size=200'])).toBe('parallel');
    expect(gcMode(['--single-threaded-gc', '--no-single-threaded-gc'])).toBe('parallel');
    expect(gcMode(['--single-threaded-gc', '--nosingle-threaded-gc'])).toBe('parallel');
    expect(gcMode(['--single-threaded', '--no-single-threaded'])).toBe('parallel');
    expect(gcMode(['--single-threaded-gcx'])).toBe('parallel');
  });
});
