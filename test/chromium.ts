// Debian's Chromium driven by playwright-core, launched one way for the
// console's browser test and the server bench: root in CI has no user
// namespace for the sandbox, and the machine's network is closed, so no
// background calls home.
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_PATH } from './requirements.ts';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
