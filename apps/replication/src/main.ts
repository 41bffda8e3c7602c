import 'reflect-metadata';
import { runMigrationCommand } from '@cryptomesh/persistence';
import { runService } from '@cryptomesh/service';
import { runKeygenCommand } from './keygen.command';
import { replicationApp } from './replication.app';

if (process.argv[2] === 'migrate') {
  void runMigrationCommand('replication').then((code) => process.exit(code));
} else if (process.argv[2] === 'keygen') {
  process.exit(runKeygenCommand(process.argv.slice(3)));
} else {
  void runService(replicationApp);
}
