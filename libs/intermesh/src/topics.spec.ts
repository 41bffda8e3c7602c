import { isValidPortalId, logTopic, portalIdOfLogTopic, WITNESS_TOPIC } from './topics';

describe('InterMesh topics', () => {
  it('names a portal log topic and reads it back', () => {
    expect(logTopic('alpha-1')).toBe('intermesh.log.alpha-1');
    expect(portalIdOfLogTopic('intermesh.log.alpha-1')).toBe('alpha-1');
    expect(portalIdOfLogTopic(WITNESS_TOPIC)).toBeUndefined();
    expect(portalIdOfLogTopic('intermesh.log.Alpha')).toBeUndefined();
  });

  it.each(['', 'Alpha', '-alpha', 'a.b', 'a_b', 'a/b', 'x'.repeat(64)])('rejects portal id %j', (id) => {
    expect(isValidPortalId(id)).toBe(false);
    expect(() => logTopic(id)).toThrow(RangeError);
  });
});
