// The operators' console in real Chromium (Debian's, driven by
// playwright-core) against a real server on 127.0.0.1: a wrong token is
// refused; an admin signs in, sees the versions and the plot, changes a
// license's tier after seeing the patch it costs the device, a simulated
// device takes the upgrade, and the console shows its new tier, accuracy
// and download, and the audit entry. Screenshots go to
// test-artifacts/console/ (kept by CI as artifacts, ignored by git).
// test: own-process (several CPU-seconds: it balances better alone)
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../chromium.ts';
import { startServer } from '../../server/start.ts';
import { createClient } from '../../server/client.ts';
import { provisionDevices } from '../../server/provision.ts';
import { openDevice } from '../../device-sim/device.ts';
import { keys, syntheticArtifact } from '../device-sim/fixtures.ts';
import { CHROMIUM, requiring } from '../requirements.ts';

const test = requiring(uvuTest, CHROMIUM);
const ADMIN = 'console-admin-token-Xy7-0123456';
const SHOTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Waits until the console has rendered `tab` (it sets body[data-ready] when a page is done). */
async function ready(page: Page, tab: string): Promise<void> {
  await page.waitForSelector(`body[data-ready="${tab}"]`, { timeout: 15_000 });
  const problem = await page.textContent('#status');
  assert.is(problem, '', `the ${tab} page shows an error`);
}

test('console: sign in, versions and plot, a tier change with its patch cost, the device takes it, the audit shows it', async () => {
  mkdirSync(SHOTS, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'wg-console-'));
  const server = await startServer({ port: 0, dataDir: join(work, 'db'), adminToken: ADMIN, authCacheMs: 0, log: () => undefined });
  let browser: Browser | undefined;
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(syntheticArtifact({ version: 1, seed: 41, sizes: [784, 24, 10] }));
    const { licenseId, tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: 1 });
    const device = await openDevice({ dir: join(work, 'device'), profile: 'm0-32k', server: server.url, token: tokens[0], publicKey: keys.publicKeyPem });
    assert.is((await device.checkForUpdate()).kind, 'install');
    // Version 2 is published after the device installed version 1: its upgrade changes version and tier at once.
    await admin.publish(syntheticArtifact({ version: 2, seed: 42, sizes: [784, 24, 10] }));

    const query = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ model(name: "synthetic") { latest { tiers { name accuracy } } } }' }),
    });
    const fullAccuracy: number = (await query.json()).data.model.latest.tiers.find((t: { name: string }) => t.name === 'full').accuracy;

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    // First page: the sign-in form, interactive (reported, not asserted).
    const started = Date.now();
    await page.goto(`${server.url}/console`);
    await ready(page, 'sign-in');
    const interactiveMs = await page.evaluate(() => performance.now());
    process.stdout.write(`  console: sign-in page interactive ${interactiveMs.toFixed(0)} ms after navigation (${Date.now() - started} ms wall)\n`);

    // A wrong token is refused with the server's reason, and nothing is shown.
    await page.fill('#token', 'wga_not-a-real-token');
    await page.click('#sign-in button[type=submit]');
    await page.waitForFunction(() => document.getElementById('sign-in-error')?.textContent !== '');
    assert.match((await page.textContent('#sign-in-error')) ?? '', /unknown or revoked/);
    assert.is(await page.isVisible('#tabs'), false);
    await shot(page, '1-wrong-token');

    // The admin token: models, versions, tiers and the plot.
    await page.fill('#token', ADMIN);
    await page.click('#sign-in button[type=submit]');
    await ready(page, 'models');
    const versionsText = await page.textContent('section[data-model="synthetic"] table');
    assert.match(versionsText!, /v1/);
    assert.match(versionsText!, /v2/);
    assert.is(await page.locator('section[data-model="synthetic"] svg circle').count(), 4, 'two tiers in each of two versions');
    assert.is(await page.locator('svg circle[data-version="2"][data-tier="full"]').count(), 1);
    await shot(page, '2-models-and-plot');

    // Licenses: choose full, see what it costs the device, apply.
    await page.click('button[data-tab="licenses"]');
    await ready(page, 'licenses');
    await page.selectOption(`select[data-license="${licenseId}"]`, 'full');
    const cost = page.locator(`[data-preview="${licenseId}"] li[data-device]`);
    await cost.waitFor({ timeout: 15_000 });
    const previewBytes = Number(await cost.getAttribute('data-bytes'));
    assert.match((await cost.textContent())!, /patch/);
    await shot(page, '3-tier-change-preview');
    await page.click(`button[data-apply="${licenseId}"]`);
    await page.waitForSelector(`[data-changed="${licenseId}"]`, { timeout: 15_000 });

    // The device takes the upgrade by the patch the console priced.
    const upgrade = await device.checkForUpdate();
    assert.is(upgrade.kind, 'version', 'v1 basic to v2 full: a new version and a new tier in one patch');
    assert.is(upgrade.patchBytes, previewBytes, 'the console showed the patch the device then downloaded');

    await page.click('button[data-tab="devices"]');
    await ready(page, 'devices');
    const row = (await page.textContent('#view table tbody tr'))!;
    assert.match(row, /v2/);
    assert.match(row, /full/);
    assert.ok(row.includes(`${(fullAccuracy * 100).toFixed(1)} %`), `the full tier's accuracy in: ${row}`);
    assert.match(row, new RegExp(`${previewBytes.toLocaleString('en-US')} B`), 'the bytes it downloaded');
    assert.match(row, /installed/);
    await shot(page, '4-device-upgraded');

    await page.click('button[data-tab="audit"]');
    await ready(page, 'audit');
    const audit = (await page.textContent('#view table tbody tr'))!;
    assert.match(audit, /license\.change-tier/);
    assert.match(audit, /"tier":"full"/);
    await shot(page, '5-audit');

    // A staged rollout shows in the versions table: how far it went and how its stage fared.
    await admin.publish(syntheticArtifact({ version: 3, seed: 43, sizes: [784, 24, 10] }), { draft: true });
    await admin.releaseVersion('synthetic', 3, { percent: 100 / 2, maxFailurePercent: 20 });
    await admin.pauseRollout('synthetic', 3, 'waiting for the field test');
    await page.click('button[data-tab="models"]');
    await ready(page, 'models');
    const v3 = (await page.textContent('section[data-model="synthetic"] table tbody tr:last-child'))!;
    assert.match(v3, /v3/);
    assert.match(v3, /published, rollout paused to 50 %; 1 device: 0 installed, 0 failed, 1 pending \(waiting for the field test\)/);
    await shot(page, '6-staged-rollout');
    assert.equal(pageErrors, [], 'no script errors in the page');
  } finally {
    await browser?.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('console: a device token is not an operator; the page sends only to its own server', async () => {
  const work = mkdtempSync(join(tmpdir(), 'wg-console-'));
  const server = await startServer({ port: 0, dataDir: join(work, 'db'), adminToken: ADMIN, log: () => undefined });
  let browser: Browser | undefined;
  try {
    const admin = createClient({ server: server.url, token: ADMIN });
    await admin.registerPublisherKey(keys.publicKeyPem, 'ci');
    await admin.publish(syntheticArtifact({ version: 1, seed: 41, sizes: [784, 24, 10] }));
    const { tokens } = await provisionDevices({ server: server.url, adminToken: ADMIN, model: 'synthetic', tier: 'basic', count: 1 });
    const page = await fetch(`${server.url}/console`);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/);

    browser = await launchChromium();
    const tab = await browser.newPage();
    await tab.goto(`${server.url}/console`);
    await ready(tab, 'sign-in');
    await tab.fill('#token', tokens[0]!);
    await tab.click('#sign-in button[type=submit]');
    await tab.waitForFunction(() => document.getElementById('sign-in-error')?.textContent !== '');
    assert.match((await tab.textContent('#sign-in-error')) ?? '', /device token/);
    assert.is(await tab.isVisible('#tabs'), false);
  } finally {
    await browser?.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
