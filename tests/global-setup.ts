/**
 * Jest global setup: what the suite needs beyond `cairn setup` (which `npm test` runs first).
 * Chromium renders the HTML report in its test; as root it is installed from Debian when missing.
 */
import { execSync } from 'node:child_process';
import fs from 'node:fs';

export default async function globalSetup(): Promise<void> {
  if (!fs.existsSync('/usr/bin/chromium')) {
    if (process.getuid?.() !== 0) {
      throw new Error('The report test needs Chromium: run `apt-get install -y chromium` as root, then `npm test` again.');
    }
    console.log('[test setup] installing chromium (Debian) for the report test ...');
    execSync('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium', {
      stdio: 'inherit',
    });
  }
}
