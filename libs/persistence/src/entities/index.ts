import { ConsumerProgressEntity } from './consumer-progress.entity';

/** Every entity the portal's schema maps. */
export const ENTITIES = [ConsumerProgressEntity];
