import { Command, Option } from 'commander';
import { registerAirlockCommands } from './airlock.js';
import { registerApprovalCommands } from './approvals.js';
import { registerBackupCommands } from './backup.js';
import { registerCommandCommands } from './commands.js';
import { registerEntityCommands } from './entities.js';
import { registerRatesCommands } from './rates.js';
import { registerKeyCommands } from './keys.js';
import { registerLedgerCommands } from './ledger.js';
import { registerMcpCommand } from './mcp.js';
import { registerMigrateCommand } from './migrate.js';
import { registerOutboxCommands } from './outbox.js';
import { registerPolicyCommands } from './policy.js';
import { registerRebuildCommand } from './rebuild.js';
import { registerRunCommands } from './runs.js';
import { registerPackCommands } from './pack-commands.js';
import { registerServeCommands } from './serve.js';
import { registerTenantCommands } from './tenants.js';
import { registerTotpCommands } from './totp.js';
import { registerWitnessCommands } from './witness.js';
import { CliError } from './context.js';

/** `writ`: the command line. State-changing commands go through the running server. */
const program = new Command('writ')
  .description('writ: a governed command ledger')
  .addOption(new Option('--home <dir>', 'writ home (config, data, keys)').env('WRIT_HOME').default('.writ'))
  .option('--url <url>', 'server URL (default: from the home config)')
  .showHelpAfterError('(run `writ --help` for usage)');

registerServeCommands(program);
registerKeyCommands(program);
registerTenantCommands(program);
registerCommandCommands(program);
registerApprovalCommands(program);
registerAirlockCommands(program);
registerLedgerCommands(program);
registerWitnessCommands(program);
registerTotpCommands(program);
registerPolicyCommands(program);
registerOutboxCommands(program);
registerBackupCommands(program);
registerEntityCommands(program);
registerRatesCommands(program);
registerRebuildCommand(program);
registerRunCommands(program);
registerMcpCommand(program);
registerMigrateCommand(program);

try {
  // `writ <pack> …`: the command lines packs contribute (the built-in ones' and the home's).
  await registerPackCommands(program, process.argv);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CliError) {
    process.stderr.write(`writ: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`writ: ${(err as Error).message}\n`);
  process.exit(1);
}
