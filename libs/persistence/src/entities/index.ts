import { ConsumerProgressEntity } from './consumer-progress.entity';
import { LogEntryEntity } from './log-entry.entity';
import { LogQueueEntity } from './log-queue.entity';
import { LogSealEntity } from './log-seal.entity';
import { LogTreeNodeEntity } from './log-tree-node.entity';

/** Every entity the portal's schema maps. */
export const ENTITIES = [
  ConsumerProgressEntity,
  LogQueueEntity,
  LogEntryEntity,
  LogTreeNodeEntity,
  LogSealEntity,
];
