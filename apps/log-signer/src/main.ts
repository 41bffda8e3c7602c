import 'reflect-metadata';
import { runMigrationCommand } from '@cryptomesh/persistence';
import { runService } from '@cryptomesh/service';
import { logSignerApp } from './log-signer.app';

if (process.argv[2] === 'migrate') {
  void runMigrationCommand('log-signer').then((code) => process.exit(code));
} else {
  void runService(logSignerApp);
}
