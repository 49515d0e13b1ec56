/**
 * The test set-up that `bun run test` and CI run first: installs the Debian tools the tests use (as root), or
 * prints the command that does. Fails only when running as root and the install did not succeed; otherwise the
 * tests run and those whose tool is absent fail with the install command in their message.
 */
import { setUpSystemTools } from '../packages/core/src/testing/system-tools.ts';

const stillMissing = await setUpSystemTools();
process.exit(stillMissing.length > 0 && process.getuid?.() === 0 ? 1 : 0);
