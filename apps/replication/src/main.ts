import 'reflect-metadata';
import { runMigrationCommand } from '@cryptomesh/persistence';
import { runService } from '@cryptomesh/service';
import { replicationApp } from './replication.app';

if (process.argv[2] === 'migrate') {
  void runMigrationCommand('replication').then((code) => process.exit(code));
} else {
  void runService(replicationApp);
}
