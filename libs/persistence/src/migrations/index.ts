import { ConsumerProgress1763776800000 } from './1763776800000-consumer-progress';
import { Log1763780400000 } from './1763780400000-log';
import { Catalog1763784000000 } from './1763784000000-catalog';
import { ProfileIndex1763787600000 } from './1763787600000-profile-index';
import { Publication1763791200000 } from './1763791200000-publication';
import { Federation1763794800000 } from './1763794800000-federation';
import { QueueRequestId1763798400000 } from './1763798400000-queue-request-id';
import { StatusHistory1763802000000 } from './1763802000000-status-history';
import { ConnectNonce1763805600000 } from './1763805600000-connect-nonce';
import { AccountMoved1763805700000 } from './1763805700000-account-moved';
import { FindingVerified1763805800000 } from './1763805800000-finding-verified';
import { EscrowQuota1763806500000 } from './1763806500000-escrow-quota';
import { MirrorAccountStates1763807000000 } from './1763807000000-mirror-account-states';
import { ConnectSource1763807500000 } from './1763807500000-connect-source';
import { ServiceRoles1763808000000 } from './1763808000000-service-roles';
import { QueueRefused1763808100000 } from './1763808100000-queue-refused';
import { LogAccountStates1763808200000 } from './1763808200000-log-account-states';
import { Tiles1763809200000 } from './1763809200000-tiles';
import { OutsideWitnesses1763809210000 } from './1763809210000-outside-witnesses';
import { AccountRevision1763809300000 } from './1763809300000-account-revision';
import { AccountNonces1763809320000 } from './1763809320000-account-nonces';
import { EscrowMirror1763809350000 } from './1763809350000-escrow-mirror';
import { LogKeyTransitions1763809400000 } from './1763809400000-log-key-transitions';
import { CatalogsInbound1763809500000 } from './1763809500000-catalogs-inbound';
import { QueueSerialScan1763809600000 } from './1763809600000-queue-serial-scan';
import { AccountStateProfiles1763809700000 } from './1763809700000-account-state-profiles';

/**
 * Every migration, oldest first. Listed explicitly (not by file glob) so that the compiled
 * services, the tests and the embedded mode all apply exactly the same set.
 */
export const MIGRATIONS = [
  ConsumerProgress1763776800000,
  Log1763780400000,
  Catalog1763784000000,
  ProfileIndex1763787600000,
  Publication1763791200000,
  Federation1763794800000,
  QueueRequestId1763798400000,
  StatusHistory1763802000000,
  ConnectNonce1763805600000,
  AccountMoved1763805700000,
  FindingVerified1763805800000,
  EscrowQuota1763806500000,
  MirrorAccountStates1763807000000,
  ConnectSource1763807500000,
  ServiceRoles1763808000000,
  QueueRefused1763808100000,
  LogAccountStates1763808200000,
  Tiles1763809200000,
  OutsideWitnesses1763809210000,
  AccountRevision1763809300000,
  AccountNonces1763809320000,
  EscrowMirror1763809350000,
  LogKeyTransitions1763809400000,
  CatalogsInbound1763809500000,
  QueueSerialScan1763809600000,
  AccountStateProfiles1763809700000,
];
