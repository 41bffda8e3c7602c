import { ConsumerProgress1763776800000 } from './1763776800000-consumer-progress';

/**
 * Every migration, oldest first. Listed explicitly (not by file glob) so that the compiled
 * services, the tests and the embedded mode all apply exactly the same set.
 */
export const MIGRATIONS = [ConsumerProgress1763776800000];
