import { gcMode } from './service-bootstrap';

describe('gcMode (the `gc` of a service’s listening line)', () => {
  it('is single-threaded only when node was started with --single-threaded-gc (or --single-threaded)', () => {
    expect(gcMode(['--single-threaded-gc'])).toBe('single-threaded');
    expect(gcMode(['--no-deprecation', '--single_threaded_gc'])).toBe('single-threaded');
    expect(gcMode(['--single-threaded-gc=true'])).toBe('single-threaded');
    expect(gcMode([])).toBe('parallel');
    expect(gcMode(['--single-threaded'])).toBe('single-threaded'); // no background tasks at all
    expect(gcMode(['--no-single-threaded-gc'])).toBe('parallel');
  });
});
