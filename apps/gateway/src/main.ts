import 'reflect-metadata';
import { runMigrationCommand } from '@cryptomesh/persistence';
import { runService } from '@cryptomesh/service';
import { gatewayApp } from './gateway.app';

if (process.argv[2] === 'migrate') {
  void runMigrationCommand('gateway').then((code) => process.exit(code));
} else {
  void runService(gatewayApp);
}
