// `weightgate serve` and the client commands that call the weight storage
// server: publish, token, customer, license, versions, audit, plus
// `keys register` and `device register|list` added under the `keys` and
// `device` commands that formats/ and device-sim/ own. The server itself
// (Hono, PGlite, Drizzle) is imported when `serve` runs, not before.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { createClient, type AuditEntry, type LicenseView } from '../server/client.ts';
import type { RolloutView } from '../server/store/rollouts.ts';
import { INSTALL_OUTCOMES, type InstallOutcome } from '../api/device-report.ts';
import { DEFAULT_AUTH_CACHE_MS } from '../server/instance-link.ts';
import { UsageError } from './errors.ts';
import { readPublicKeyFile } from './keys.ts';
import { integerOption, numberOption, positiveInt } from './numbers.ts';

interface ClientFlags {
  server?: string;
  token?: string;
  json?: boolean;
}

function withClientOptions(command: Command): Command {
  return command
    .option('--server <url>', 'server base URL (default $WEIGHTGATE_SERVER or http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (default $WEIGHTGATE_TOKEN)')
    .option('--json', 'print JSON for scripts');
}

function clientOf(flags: ClientFlags) {
  const server = flags.server ?? process.env.WEIGHTGATE_SERVER ?? 'http://127.0.0.1:8080';
  const token = flags.token ?? process.env.WEIGHTGATE_TOKEN;
  if (!token) throw new UsageError('no token: pass --token or set WEIGHTGATE_TOKEN');
  return createClient({ server, token });
}

function print(flags: ClientFlags, value: unknown, text: string): void {
  process.stdout.write((flags.json ? JSON.stringify(value) : text) + '\n');
}

function intervalList(text: string): number[] {
  if (!/^\d+(,\d+)*$/.test(text)) throw new UsageError(`--intervals must be comma-separated interval ids like 0,1,2, got "${text}"`);
  return text.split(',').map(Number);
}

/** The `before` of the server's next-page URL (/v1/audit?limit=L&before=ID), or null on the last page. */
function cursorOf(next: string | null): string | null {
  if (next === null) return null;
  const before = new URL(next, 'http://server').searchParams.get('before');
  return before !== null && /^\d+$/.test(before) ? before : null;
}

function describeLicense(l: LicenseView): string {
  const grant = l.tier !== null ? `tier ${l.tier}` : `intervals ${(l.intervals ?? []).join(',')}`;
  const state = l.revokedAt ? `revoked ${l.revokedAt}` : l.expiresAt ? `expires ${l.expiresAt}` : 'no expiry';
  return `license ${l.id}: customer ${l.customerId}, model ${l.model}, ${grant}, ${l.kind}, ${state}`;
}

/** Adds `build` under the top-level command `name`, now if it exists, else when it is dispatched to (another area registers it later). */
function extendCommand(program: Command, name: string, build: (parent: Command) => void): void {
  const attach = (parent: Command) => {
    if (!parent.commands.some((c) => c.name() === 'register')) build(parent);
  };
  const existing = program.commands.find((c) => c.name() === name);
  if (existing) {
    attach(existing);
    return;
  }
  program.hook('preSubcommand', (_program, sub) => {
    if (sub.name() === name) attach(sub);
  });
}

export function registerServerCommands(program: Command): void {
  program
    .command('serve')
    .description(
      [
        'Run the weight storage server (Hono). Data in PGlite under --data, or',
        'PostgreSQL when $DATABASE_URL is set; migrations are applied at start.',
        '$WEIGHTGATE_ADMIN_TOKEN becomes an admin token: 16 or more characters, 8 or',
        'more different, of 2 or more kinds (lower case, upper case, digits, others),',
        'e.g. $(openssl rand -hex 24); it is stored hashed, and starting with a new',
        'value revokes the old one. An unreachable database is retried for --db-retry',
        'seconds (default $WEIGHTGATE_DB_RETRY_SECONDS or 30), then serve exits 1.',
        'Several instances may share one PostgreSQL (a write on one clears the caches',
        'of all, through LISTEN/NOTIFY); PGlite data is for one instance only.',
        '',
        'Prints "listening on http://HOST:PORT" once it accepts requests, then where',
        "the operators' console (GET /console: sign in with an admin or publisher",
        'token) and the GraphQL API (POST /graphql) are. Stops cleanly on',
        'SIGINT/SIGTERM.',
        '',
        'Example: WEIGHTGATE_ADMIN_TOKEN=$(openssl rand -hex 24) weightgate serve',
        '--port 8080',
      ].join('\n'),
    )
    .option('--port <n>', 'TCP port (0 = any free port)', integerOption('--port', { min: 0, max: 65535 }), 8080)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--data <dir>', 'PGlite data directory (ignored when $DATABASE_URL is set)', './.weightgate')
    .option('--allow-unsigned', 'accept unsigned artifacts (development only)')
    .option(
      '--mqtt-port <n>',
      'port of the embedded MQTT broker that pushes change notices to devices; devices learn it from their update check, so the default 0 takes any free port (give one your firewall opens, e.g. 1883); ignored when $MQTT_URL names a broker to use instead',
      integerOption('--mqtt-port', { min: 0, max: 65535 }),
      0,
    )
    .option('--no-push', 'push no notices (devices then learn of changes only when they poll)')
    .option('--mqtt-topic-prefix <prefix>', 'notices go to PREFIX/devices/<device id>', 'weightgate')
    .option(
      '--auth-cache-seconds <s>',
      'how long token and license lookups are reused on the device path; a change through any instance clears them at once (an instance that stops hearing the others stops caching), so this bounds only changes made in the database by hand',
      numberOption('--auth-cache-seconds', { min: 0, max: 3600, unit: 'seconds' }),
      DEFAULT_AUTH_CACHE_MS / 1000,
    )
    .option('--max-body-mb <n>', 'largest accepted upload in MiB', integerOption('--max-body-mb', { min: 1, max: 4096 }), 64)
    .option(
      '--db-retry <seconds>',
      'keep retrying an unreachable database this long at start (default $WEIGHTGATE_DB_RETRY_SECONDS or 30)',
      numberOption('--db-retry', { min: 0, max: 86400, unit: 'seconds' }),
    )
    .action(
      async (flags: {
        port: number;
        host: string;
        data: string;
        allowUnsigned?: boolean;
        maxBodyMb: number;
        dbRetry?: number;
        mqttPort: number;
        push: boolean;
        mqttTopicPrefix: string;
        authCacheSeconds: number;
      }) => {
        const port = flags.port;
        if (!/^[A-Za-z0-9._-]{1,50}(\/[A-Za-z0-9._-]{1,50}){0,4}$/.test(flags.mqttTopicPrefix)) {
          throw new UsageError(`--mqtt-topic-prefix must be 1-5 topic levels of A-Z a-z 0-9 . _ - joined by /, got "${flags.mqttTopicPrefix}"`);
        }
        const { startServer } = await import('../server/start.ts');
        const server = await startServer({
          port,
          host: flags.host,
          dataDir: flags.data,
          databaseUrl: process.env.DATABASE_URL || undefined,
          adminToken: process.env.WEIGHTGATE_ADMIN_TOKEN || undefined,
          allowUnsigned: flags.allowUnsigned ?? false,
          maxBodyBytes: flags.maxBodyMb * 1024 * 1024,
          databaseRetryMs: flags.dbRetry === undefined ? undefined : flags.dbRetry * 1000,
          push: !flags.push ? undefined : process.env.MQTT_URL ? { url: process.env.MQTT_URL } : { port: flags.mqttPort },
          topicPrefix: flags.mqttTopicPrefix,
          authCacheMs: flags.authCacheSeconds * 1000,
        });
        process.stdout.write(`listening on ${server.url}\n`);
        process.stdout.write(`console: ${server.url}/console  GraphQL: POST ${server.url}/graphql\n`);
        process.stdout.write(server.pushUrl ? `push: notices to devices through ${server.pushUrl}\n` : 'push: off (devices poll)\n');
        await new Promise<void>((resolve) => {
          const stop = (signal: string) => {
            process.stderr.write(`weightgate: ${signal}, stopping\n`);
            server.close().then(resolve, (error) => {
              process.stderr.write(`weightgate: error while stopping: ${(error as Error).message}\n`);
              resolve();
            });
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
      },
    );

  withClientOptions(
    program
      .command('publish <file>')
      .description(
        'Upload a signed .wgm to the server (publisher or admin token); 409 if its version is not newer. --draft stages it: stored and listed, but devices are not offered it until `versions release`.',
      ),
  )
    .option('--draft', 'stage the version; release it later with weightgate versions release MODEL VERSION')
    .action(async (file: string, flags: ClientFlags & { draft?: boolean }) => {
      const result = await clientOf(flags).publish(new Uint8Array(readFileSync(file)), { draft: flags.draft });
      const s = result.segments;
      const verb = result.state === 'draft' ? 'staged (draft)' : 'published';
      print(
        flags,
        result,
        `${verb} ${result.model} version ${result.version}: ${s.added} of ${s.total} segments new (${s.addedBytes} of ${s.totalBytes} bytes stored)`,
      );
    });

  const versions = program.command('versions').description('List, release or withdraw the versions of a model.');
  withClientOptions(versions.command('list <model>').description('List versions with state and content hash.')).action(
    async (model: string, flags: ClientFlags) => {
      const list = await clientOf(flags).listVersions(model);
      print(
        flags,
        list,
        list.map((v) => `${model} ${v.version}  ${v.state}  ${v.contentSha256.slice(0, 16)}  key ${v.keyId ?? 'unsigned'}`).join('\n') ||
          `${model}: no versions`,
      );
    },
  );
  withClientOptions(
    versions
      .command('release <model> <version>')
      .description(
        'Release a draft: devices are offered it from their next check. With --percent (below 100) and/or --group, a staged rollout: ' +
          'only that stage is offered it first, and the rollout pauses by itself when too many of the stage report failed installs.\n' +
          'Example: weightgate versions release kws 3 --percent 10 --max-failure-percent 20',
      ),
  )
    .option('--percent <n>', "stage: this share of the model's devices (0-100), chosen by a stable hash", integerOption('--percent', { min: 0, max: 100 }))
    .option('--group <name>', 'stage: every device of this group (see device register --group)')
    .option(
      '--max-failure-percent <n>',
      "pause when more than this share of the stage's reports are failed installs (default 20)",
      numberOption('--max-failure-percent', { min: 0, max: 100 }),
    )
    .option('--min-reports <n>', '... once at least this many stage devices have reported (default 1)', positiveInt('--min-reports'))
    .action(
      async (model: string, version: string, flags: ClientFlags & { percent?: number; group?: string; maxFailurePercent?: number; minReports?: number }) => {
        const staged = flags.percent !== undefined || flags.group !== undefined;
        if (!staged && (flags.maxFailurePercent !== undefined || flags.minReports !== undefined)) {
          throw new UsageError('--max-failure-percent and --min-reports apply to a staged rollout: give --percent and/or --group too');
        }
        const number = positiveInt('version')(version);
        const client = clientOf(flags);
        const result = await client.releaseVersion(model, number, {
          percent: flags.percent,
          group: flags.group,
          maxFailurePercent: flags.maxFailurePercent,
          minReports: flags.minReports,
        });
        if (!staged || flags.percent === 100) return print(flags, result, `${model} version ${result.version} released`);
        const rollout = await client.rollout(model, number);
        print(flags, rollout, `${model} version ${number} released to a stage of ${rollout.stage.devices} devices (${describeStage(rollout)})`);
      },
    );
  withClientOptions(
    versions.command('rollout <model> <version>').description("Show a staged rollout: its state, stage and the stage's install outcomes."),
  ).action(async (model: string, version: string, flags: ClientFlags) => {
    const rollout = await clientOf(flags).rollout(model, positiveInt('version')(version));
    print(flags, rollout, rolloutLine(rollout));
  });
  withClientOptions(
    versions
      .command('widen <model> <version>')
      .description(
        'Take more devices into a staged rollout; --percent 100 completes it (every device).\nExample: weightgate versions widen kws 3 --percent 50',
      ),
  )
    .option('--percent <n>', "the share of the model's devices the stage takes (0-100; never less than now)", integerOption('--percent', { min: 0, max: 100 }))
    .option('--group <name>', 'also every device of this group')
    .action(async (model: string, version: string, flags: ClientFlags & { percent?: number; group?: string }) => {
      if (flags.percent === undefined && flags.group === undefined) throw new UsageError('give --percent, --group or both');
      const rollout = await clientOf(flags).widenRollout(model, positiveInt('version')(version), { percent: flags.percent, group: flags.group });
      print(flags, rollout, rolloutLine(rollout));
    });
  withClientOptions(
    versions.command('pause <model> <version>').description('Pause a staged rollout: stage devices that do not run the version yet are not offered it.'),
  )
    .option('--reason <text>', 'why (kept in the audit log)')
    .action(async (model: string, version: string, flags: ClientFlags & { reason?: string }) => {
      const rollout = await clientOf(flags).pauseRollout(model, positiveInt('version')(version), flags.reason);
      print(flags, rollout, rolloutLine(rollout));
    });
  withClientOptions(
    versions.command('resume <model> <version>').description('Resume a paused rollout; the failed installs that paused it are forgotten and retried.'),
  ).action(async (model: string, version: string, flags: ClientFlags) => {
    const rollout = await clientOf(flags).resumeRollout(model, positiveInt('version')(version));
    print(flags, rollout, rolloutLine(rollout));
  });
  withClientOptions(versions.command('withdraw <model> <version>').description('Withdraw a version: devices stop being sent it.')).action(
    async (model: string, version: string, flags: ClientFlags) => {
      const result = await clientOf(flags).withdrawVersion(model, positiveInt('version')(version));
      print(flags, result, `${model} version ${result.version} withdrawn`);
    },
  );

  const token = program.command('token').description('API tokens (admin token needed).');
  withClientOptions(token.command('create').description('Issue an admin or publisher token; printed once.'))
    .requiredOption('--role <role>', 'admin or publisher')
    .requiredOption('--label <text>', 'who or what holds it')
    .action(async (flags: ClientFlags & { role: string; label: string }) => {
      if (flags.role !== 'admin' && flags.role !== 'publisher') throw new UsageError(`--role must be admin or publisher, got "${flags.role}"`);
      const result = await clientOf(flags).createToken(flags.role, flags.label);
      print(flags, result, result.token);
    });

  withClientOptions(
    token.command('revoke <id>').description('Revoke a token by id (from `token create --json` or the audit log); it gets 401 from then on.'),
  ).action(async (id: string, flags: ClientFlags) => {
    const result = await clientOf(flags).revokeToken(positiveInt('id')(id));
    print(flags, result, `token ${result.id} (${result.role}, ${result.label}) revoked`);
  });

  const customer = program.command('customer').description('Customers (admin token needed).');
  withClientOptions(customer.command('create <name>').description('Create a customer; prints its id.')).action(async (name: string, flags: ClientFlags) => {
    const result = await clientOf(flags).createCustomer(name);
    print(flags, result, `customer ${result.id}: ${result.name}`);
  });
  withClientOptions(customer.command('list').description('List customers.')).action(async (flags: ClientFlags) => {
    const list = await clientOf(flags).listCustomers();
    print(flags, list, list.map((c) => `customer ${c.id}: ${c.name}`).join('\n'));
  });

  registerLicenseCommands(program);
  withClientOptions(
    program
      .command('audit')
      .description(
        'Audit log entries, newest first (admin token): a page of --limit (default and most 500). When there are more, the ' +
          'next page is `--before CURSOR` (printed on stderr; "next" in --json); --all fetches every page.',
      ),
  )
    .option('--limit <n>', 'entries per page, 1..500', integerOption('--limit', { min: 1, max: 500 }))
    .option('--before <cursor>', 'the page after the one that printed this cursor', positiveInt('--before'))
    .option('--all', 'follow the pages to the oldest entry')
    .action(async (flags: ClientFlags & { limit?: number; before?: number; all?: boolean }) => {
      const client = clientOf(flags);
      const entries: AuditEntry[] = [];
      let before = flags.before;
      let next: string | null;
      for (;;) {
        const page = await client.auditPage({ limit: flags.limit, before });
        entries.push(...page.entries);
        next = cursorOf(page.next);
        if (!flags.all || next === null) break;
        before = Number(next);
      }
      print(flags, { entries, next }, entries.map((e) => `${e.at}  ${e.action}  ${e.entity} ${e.entityId}`).join('\n'));
      if (next !== null && !flags.json)
        process.stderr.write(`more: weightgate audit${flags.limit ? ` --limit ${flags.limit}` : ''} --before ${next} (or --all)\n`);
    });

  extendCommand(program, 'keys', (keys) => {
    withClientOptions(
      keys
        .command('register <public-key-pem>')
        .description("Register a publisher's Ed25519 public key on the server (admin token); signed versions must verify with a registered key."),
    )
      .option('--label <text>', 'whose key it is', 'publisher')
      .action(async (file: string, flags: ClientFlags & { label: string }) => {
        const publicKey = readPublicKeyFile(file, 'keys register');
        const result = await clientOf(flags).registerPublisherKey(publicKey, flags.label);
        print(flags, result, `registered key ${result.keyId} (${result.label})`);
      });
    withClientOptions(keys.command('list').description('List the publisher keys registered on the server, with when each was revoked (admin token).')).action(
      async (flags: ClientFlags) => {
        const list = await clientOf(flags).listPublisherKeys();
        print(
          flags,
          list,
          list.map((k) => `${k.keyId}  ${k.label}  registered ${k.createdAt}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`).join('\n') ||
            'no publisher keys',
        );
      },
    );
    withClientOptions(
      keys
        .command('revoke <key-id>')
        .description(
          'Revoke a publisher key on the server (admin token): uploads signed with it are refused from then on. Versions it ' +
            'already signed stay published; they are listed so you can withdraw them (weightgate versions withdraw).',
        ),
    ).action(async (keyId: string, flags: ClientFlags) => {
      const result = await clientOf(flags).revokePublisherKey(keyId);
      const signed = result.publishedVersionsSigned.map((v) => `${v.model} v${v.version}`).join(', ');
      print(flags, result, `revoked key ${result.keyId} (${result.label}); published versions it signed: ${signed || 'none'}`);
    });
  });

  extendCommand(program, 'device', (device) => {
    withClientOptions(device.command('register').description('Register a device under a license on the server (admin token); prints its device token once.'))
      .requiredOption('--license <id>', 'license id', positiveInt('--license'))
      .requiredOption('--name <name>', 'device name')
      .option('--group <name>', 'a named group (say canary) that a staged rollout can start with')
      .action(async (flags: ClientFlags & { license: number; name: string; group?: string }) => {
        const result = await clientOf(flags).registerDevice(flags.license, flags.name, flags.group);
        print(flags, result, `device ${result.deviceId} registered; token: ${result.token}`);
      });
    withClientOptions(
      device
        .command('group <id> <group|none>')
        .description('Move a device into a named group, or out of any with "none" (admin token).\nExample: weightgate device group 7 canary'),
    ).action(async (id: string, group: string, flags: ClientFlags) => {
      const result = await clientOf(flags).setDeviceGroup(positiveInt('id')(id), group === 'none' ? null : group);
      print(flags, result, `device ${result.id}: ${result.group === null ? 'in no group' : `group ${result.group}`}`);
    });
    withClientOptions(
      device
        .command('list')
        .description(
          'List registered devices with their last reported version, intervals, slot and install outcome (admin token).\n' +
            'Example: weightgate device list --state rolled-back --json',
        ),
    )
      .option('--license <id>', 'only this license', positiveInt('--license'))
      .option('--state <outcome>', `only devices whose last install attempt ended so: ${INSTALL_OUTCOMES.join(', ')}`)
      .option('--group <name>', 'only devices of this group')
      .action(async (flags: ClientFlags & { license?: number; state?: string; group?: string }) => {
        if (flags.state !== undefined && !(INSTALL_OUTCOMES as readonly string[]).includes(flags.state)) {
          throw new UsageError(`--state must be one of ${INSTALL_OUTCOMES.join(', ')}, got "${flags.state}"`);
        }
        const list = await clientOf(flags).listDevices({ licenseId: flags.license, state: flags.state as InstallOutcome | undefined, group: flags.group });
        print(
          flags,
          list,
          list
            .map(
              (d) =>
                `device ${d.id} ${d.name}${d.group ? ` [${d.group}]` : ''}: license ${d.licenseId}, version ${d.version ?? '-'}, intervals ${d.intervals?.join(',') ?? '-'}, ` +
                `slot ${d.slot ?? '-'}, last install ${d.state ?? '-'}${d.reason ? ` (${d.reason})` : ''}, seen ${d.lastSeenAt ?? 'never'}`,
            )
            .join('\n'),
        );
      });
  });
}

function registerLicenseCommands(program: Command): void {
  const license = program.command('license').description('Licenses: a tier or explicit intervals of a model for a customer (admin token).');
  withClientOptions(license.command('create').description('Create a license; prints its id.'))
    .requiredOption('--customer <id>', 'customer id', positiveInt('--customer'))
    .requiredOption('--model <name>', 'model name')
    .option('--tier <name>', 'tier name (e.g. bronze)')
    .option('--intervals <ids>', 'explicit interval ids, e.g. 0,1,2', intervalList)
    .option('--static', 'static license: the tier can never change (default dynamic)')
    .option('--expires <iso-date>', 'expiry, e.g. 2027-01-01T00:00:00Z')
    .action(async (flags: ClientFlags & { customer: number; model: string; tier?: string; intervals?: number[]; static?: boolean; expires?: string }) => {
      if ((flags.tier === undefined) === (flags.intervals === undefined)) throw new UsageError('give exactly one of --tier or --intervals');
      const result = await clientOf(flags).createLicense({
        customerId: flags.customer,
        model: flags.model,
        tier: flags.tier,
        intervals: flags.intervals,
        kind: flags.static ? 'static' : 'dynamic',
        expiresAt: flags.expires ?? null,
      });
      print(flags, result, describeLicense(result));
    });
  withClientOptions(license.command('list').description('List licenses.')).action(async (flags: ClientFlags) => {
    const list = await clientOf(flags).listLicenses();
    print(flags, list, list.map(describeLicense).join('\n'));
  });
  withClientOptions(license.command('show <id>').description('Show one license.')).action(async (id: string, flags: ClientFlags) => {
    const result = await clientOf(flags).getLicense(positiveInt('id')(id));
    print(flags, result, describeLicense(result));
  });
  withClientOptions(
    license.command('tier <id>').description("Change a dynamic license's tier or intervals; its devices get a patch at their next update-check."),
  )
    .option('--tier <name>', 'new tier')
    .option('--intervals <ids>', 'new explicit interval ids', intervalList)
    .action(async (id: string, flags: ClientFlags & { tier?: string; intervals?: number[] }) => {
      if ((flags.tier === undefined) === (flags.intervals === undefined)) throw new UsageError('give exactly one of --tier or --intervals');
      const change = flags.tier !== undefined ? { tier: flags.tier } : { intervals: flags.intervals! };
      const result = await clientOf(flags).changeLicenseTier(positiveInt('id')(id), change);
      print(flags, result, describeLicense(result));
    });
  withClientOptions(license.command('revoke <id>').description('Revoke a license: its devices get 403 LICENSE_REVOKED.')).action(
    async (id: string, flags: ClientFlags) => {
      const result = await clientOf(flags).revokeLicense(positiveInt('id')(id));
      print(flags, result, describeLicense(result));
    },
  );
  withClientOptions(license.command('expiry <id> <iso-date|none>').description('Set (or with "none" clear) the expiry of a license.')).action(
    async (id: string, when: string, flags: ClientFlags) => {
      if (when !== 'none' && Number.isNaN(Date.parse(when)))
        throw new UsageError(`expiry must be an ISO date like 2027-01-01T00:00:00Z or "none", got "${when}"`);
      const result = await clientOf(flags).setLicenseExpiry(positiveInt('id')(id), when === 'none' ? null : new Date(when));
      print(flags, result, describeLicense(result));
    },
  );
}

function describeStage(rollout: RolloutView): string {
  const parts = [`${rollout.percent} %`];
  if (rollout.group) parts.push(`group ${rollout.group}`);
  return parts.join(' + ');
}

/** One line for a rollout: state, stage and outcomes, and why it paused. */
function rolloutLine(r: RolloutView): string {
  const s = r.stage;
  const outcomes = `${s.devices} device${s.devices === 1 ? '' : 's'}: ${s.installed} installed, ${s.failed} failed, ${s.pending} pending`;
  const paused = r.state === 'paused' ? `; paused: ${r.pausedReason}` : '';
  return `${r.model} version ${r.version} rollout ${r.state}, stage ${describeStage(r)}, ${outcomes}${paused}`;
}
