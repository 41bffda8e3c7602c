import 'reflect-metadata';
import { runMigrationCommand } from '@cryptomesh/persistence';
import { runService } from '@cryptomesh/service';
import { queryApp } from './query.app';

if (process.argv[2] === 'migrate') {
  void runMigrationCommand('query').then((code) => process.exit(code));
} else {
  void runService(queryApp);
}
