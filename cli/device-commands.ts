// `weightgate device ...`: the device simulator from the command line.
//   device infer FILE   does an artifact fit a profile, and how does it score
//   device run          one device polling a server and updating itself
//   device fleet        N devices in one process, a summary of the rollout
// The simulator is imported when a command runs, so `--help` stays quick.
import type { Command } from 'commander';
import { readFileSync, statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KernelChoice, UpdateOutcome } from '../device-sim/device.ts';
import { PowerCutError } from '../device-sim/errors.ts';
import { parsePowerCut, type PowerCutPlan } from '../device-sim/power-cut.ts';
import type { Fleet, FleetSummary } from '../device-sim/fleet.ts';
import { resolveProfile } from '../device-sim/profiles.ts';
import { CheckFailedError, UsageError } from './errors.ts';
import { readPublicKeyFile } from './keys.ts';
import { integerOption, numberOption, positiveInt } from './numbers.ts';

interface ProfileFlags {
  profile?: string;
  flash?: string;
  ram?: string;
  publicKey?: string;
  allowUnsigned?: boolean;
  kernel?: string;
  arithmetic?: string;
  json?: boolean;
}

function kernelOf(flags: ProfileFlags): KernelChoice {
  const kernel = flags.kernel ?? 'image';
  if (kernel !== 'image' && kernel !== 'coded') throw new UsageError(`--kernel must be image or coded, got "${kernel}"`);
  return kernel;
}

function profileOf(flags: ProfileFlags) {
  return resolveProfile(flags.profile, { flash: flags.flash, ram: flags.ram, arithmetic: flags.arithmetic });
}

function publicKeyOf(flags: ProfileFlags): string | undefined {
  return flags.publicKey ? readPublicKeyFile(flags.publicKey, '--public-key') : undefined;
}

/**
 * Secure by default: a command that installs or loads artifacts needs the
 * publisher's public key, or an explicit --allow-unsigned (and a warning).
 */
function requirePublicKey(flags: ProfileFlags, command: string): string | undefined {
  if (flags.publicKey) return publicKeyOf(flags);
  if (!flags.allowUnsigned) {
    throw new PublicKeyRequiredError(
      `device ${command} needs --public-key FILE (the publisher's weightgate.pub) to refuse unsigned and foreign artifacts; ` +
        'pass --allow-unsigned to accept any artifact (development only)',
    );
  }
  process.stderr.write(`weightgate: warning: --allow-unsigned: device ${command} accepts unsigned artifacts and artifacts signed by anyone\n`);
  return undefined;
}

class PublicKeyRequiredError extends Error {
  readonly code = 'PUBLIC_KEY_REQUIRED';
  readonly exitCode = 2;
}

/** --server, else $WEIGHTGATE_SERVER, as the client commands read them. */
function serverOf(flags: { server?: string }): string {
  const server = flags.server ?? (process.env.WEIGHTGATE_SERVER || undefined);
  if (!server) throw new UsageError('no server: pass --server URL or set WEIGHTGATE_SERVER');
  return server;
}

/** Exits 1 with SERVER_UNREACHABLE, as the client commands do, when nothing answers at `server`. */
async function assertReachable(server: string): Promise<void> {
  const base = server.replace(/\/+$/, '');
  try {
    await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const { HttpError } = await import('../server/http-error.ts');
    throw new HttpError(
      503,
      'SERVER_UNREACHABLE',
      `cannot reach ${base}: ${(error as Error).message}${cause ? ` (${cause})` : ''}; is \`weightgate serve\` running?`,
    );
  }
}

/**
 * A failed update-check as the client commands report it: a refused token is
 * the server's code (BAD_TOKEN) with exit 2, a server that does not answer
 * at all is SERVER_UNREACHABLE with exit 1; anything else stays as it is.
 */
async function asClientError(error: unknown, server: string): Promise<unknown> {
  const failed = error as { code?: string; status?: number; message?: string };
  if (failed?.code !== 'SERVER_ERROR') return error;
  if (failed.status === 401) {
    const code = /\b([A-Z][A-Z_]+) \(HTTP 401\)/.exec(failed.message ?? '')?.[1] ?? 'BAD_TOKEN';
    return Object.assign(new Error(failed.message), { name: 'TokenRefused', code, exitCode: 2 });
  }
  if (failed.status === undefined) {
    try {
      await assertReachable(server);
    } catch (unreachable) {
      return unreachable;
    }
  }
  return error;
}

function withProfileOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'device profile: m0-32k, m4-256k, esp32', 'm4-256k')
    .option('--flash <size>', 'custom flash size (e.g. 512k, 2m); overrides the profile')
    .option('--ram <size>', 'custom RAM (arena) size (e.g. 16k); overrides the profile')
    .option('--public-key <file>', "publisher's Ed25519 public key (PEM): refuse unsigned or foreign artifacts")
    .option('--allow-unsigned', 'without --public-key: accept unsigned artifacts and any signer (development only; infer, run and fleet need one of the two)')
    .option(
      '--kernel <kind>',
      'image: run from the execution image programmed into flash after the artifact (about 2 bytes per kept weight; ' +
        'the default); coded: range-decode the artifact on every inference (no extra flash, ~100x slower)',
      'image',
    )
    .option(
      '--arithmetic <path>',
      'f32: IEEE binary32 (the default); int: block floating point with int8 weights, as the firmware library built for a part with no FPU',
      'f32',
    );
}

/**
 * The simulator's budget message names the slot's size as what "the profile
 * has"; a user who gave --flash 16k reads that as a wrong flash size. Say
 * both: the flash, and the slots it is split into (two, A/B, plus the state sectors).
 */
function flashAsFlash(reason: string | null, flashBytes: number): string | null {
  if (reason === null) return null;
  return reason.replace(
    /bytes of flash \(one slot\) but the profile has (\d+)/,
    (_, slot: string) => `bytes of flash in one slot, but a ${flashBytes}-byte flash holds two slots of ${slot} bytes (A/B, plus the state sectors)`,
  );
}

/** "done/total devices" as the fleet runs: redrawn in place on a terminal, a plain line per tenth (and the last) otherwise. */
function fleetProgress(stream: NodeJS.WriteStream): { update(done: number, total: number): void; end(): void } {
  if (stream.isTTY) {
    return { update: (done, total) => stream.write(`\r${done}/${total} devices`), end: () => stream.write('\n') };
  }
  let lastTenth = -1;
  return {
    update(done, total) {
      const tenth = Math.floor((done * 10) / total);
      if (tenth === lastTenth && done !== total) return;
      lastTenth = tenth;
      stream.write(`${done}/${total} devices\n`);
    },
    end() {},
  };
}

function describeOutcome(outcome: UpdateOutcome): string {
  if (outcome.kind === 'none') return `up to date: v${outcome.toVersion} held intervals [${outcome.heldIntervals}]`;
  return (
    `${outcome.kind}: v${outcome.fromVersion} [${outcome.fromHeldIntervals}] -> v${outcome.toVersion} [${outcome.heldIntervals}], ` +
    `${outcome.bytesSent} bytes over the network (${outcome.patchBytes !== null ? 'patch' : 'full artifact'}, artifact ${outcome.fullArtifactBytes} bytes), slot ${outcome.slot}` +
    (outcome.applyWorkingBytes !== null
      ? `, patch applied in ${outcome.applyWorkingBytes} bytes of RAM (arena high-water ${outcome.arenaHighWaterBytes} bytes)`
      : '')
  );
}

function print(json: boolean | undefined, object: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(object) + '\n' : text + '\n');
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description('simulated microcontroller: fit checks, inference, updates, fleets');

  withProfileOptions(
    device
      .command('infer <file>')
      .description(
        'Load a .wgm artifact on a simulated device (verify, one flash slot, RAM arena) and classify the test split one ' +
          'sample at a time with the kernels on the encoded form. Prints accuracy, latency, arena high-water; exits 1 if ' +
          'the artifact does not fit the profile.',
      ),
  )
    .option('--data <spec>', 'dataset: mnist or idx:DIR', 'mnist')
    .option('--limit <n>', 'classify only the first n test samples', positiveInt('--limit'))
    .option('--chunk <entries>', 'entries per streamed chunk buffer', positiveInt('--chunk'))
    .option('--json', 'print one JSON object')
    .action(async (file: string, flags: ProfileFlags & { data: string; limit?: number; chunk?: number }) => {
      const [{ loadArtifactOnProfile, scoreSplit }, { loadDataset }] = await Promise.all([
        import('../device-sim/check-artifact.ts'),
        import('../pipeline/datasets.ts'),
      ]);
      const publicKey = requirePublicKey(flags, 'infer');
      const profile = profileOf(flags);
      const bytes = new Uint8Array(readFileSync(file));
      const loaded = loadArtifactOnProfile(bytes, profile, { publicKey, chunkEntries: flags.chunk, kernel: kernelOf(flags) });
      const { manifest, heldIntervals } = loaded.artifact;
      const base = {
        file,
        model: manifest.model,
        version: manifest.version,
        heldIntervals,
        profile: profile.name,
        fits: loaded.report.fits,
        reason: loaded.report.reason,
        flashBytes: loaded.report.flashBytes,
        artifactBytes: loaded.report.artifactBytes,
        imageBytes: loaded.report.imageBytes,
        kernel: loaded.report.kernel,
        kernelNote: loaded.report.kernelNote,
        arithmetic: profile.arithmetic ?? 'f32',
        slotCapacityBytes: loaded.report.slotCapacityBytes,
        arenaBytes: loaded.report.arenaBytes,
      };
      if (!loaded.report.fits) {
        base.reason = flashAsFlash(loaded.report.reason, profile.flashBytes);
        print(
          flags.json,
          { ...base, arenaHighWaterBytes: loaded.report.arenaNeededBytes, accuracy: null, samples: 0, latencyUs: null },
          `does not fit ${profile.name}: ${base.reason}`,
        );
        throw new CheckFailedError('DOES_NOT_FIT', `${file} does not fit profile ${profile.name}: ${base.reason}`);
      }
      const dataset = await loadDataset(flags.data);
      const count = Math.min(dataset.test.count, flags.limit ?? dataset.test.count);
      const split = { samples: dataset.test.samples, labels: dataset.test.labels, count };
      const score = scoreSplit(loaded, split);
      const result = { ...base, accuracy: score.accuracy, samples: score.samples, latencyUs: score.latencyUs, arenaHighWaterBytes: score.arenaHighWaterBytes };
      print(
        flags.json,
        result,
        `${manifest.model} v${manifest.version} held intervals [${heldIntervals}] on ${profile.name}: fits\n` +
          `  accuracy ${(score.accuracy * 100).toFixed(2)} % on ${score.samples} ${dataset.name} test samples\n` +
          `  latency per sample: median ${score.latencyUs.median} us, p99 ${score.latencyUs.p99} us\n` +
          `  arena high-water ${score.arenaHighWaterBytes} of ${profile.ramBytes} bytes; flash ${loaded.report.flashBytes} of a ${loaded.report.slotCapacityBytes}-byte slot ` +
          `(artifact ${bytes.length} + execution image ${loaded.report.imageBytes})\n` +
          `  kernels: ${loaded.report.kernel}${loaded.report.kernelNote ? ` (${loaded.report.kernelNote})` : ''}, ${profile.arithmetic ?? 'f32'} arithmetic`,
      );
    });

  withProfileOptions(
    device
      .command('run')
      .description(
        'Run one simulated device: its flash lives in --dir (survives restarts); every --interval seconds it checks the ' +
          'server for an update, downloads the patch or artifact (resuming broken downloads), verifies, installs into ' +
          'the inactive slot, self-tests and confirms. Prints one line per check. --power-cut cuts the power once at a ' +
          'point of the next update; the device then reboots from its flash and carries on. When the server pushes ' +
          'notices (its update check names an MQTT broker), the device subscribes to its own topic and checks at once ' +
          'on each notice; --interval is then the fallback poll. Stops on Ctrl-C, after --once, or after --max-checks.',
      ),
  )
    .option('--server <url>', 'server base URL, e.g. http://127.0.0.1:8080 (default $WEIGHTGATE_SERVER)')
    .option('--token <token>', 'device token, from `weightgate device register` (default $WEIGHTGATE_TOKEN)')
    .option('--dir <dir>', 'device flash directory', './device-flash')
    .option('--interval <seconds>', 'seconds between checks', numberOption('--interval', { min: 0, max: 86400, unit: 'seconds' }), 10)
    .option('--once', 'check once and exit (exit status reflects the check)')
    .option('--max-checks <n>', 'stop after n checks', positiveInt('--max-checks'))
    .option('--power-cut <plan>', 'cut the power during the next update: download:BYTES, apply:BYTES, switch:BYTES or random:SEED')
    .option('--no-push', 'do not subscribe to push notices; only poll every --interval seconds')
    .option('--json', 'print one JSON object per check')
    .action(
      async (
        flags: ProfileFlags & {
          server?: string;
          token?: string;
          dir: string;
          interval: number;
          once?: boolean;
          maxChecks?: number;
          powerCut?: string;
          push: boolean;
        },
      ) => {
        const server = serverOf(flags);
        const token = flags.token ?? (process.env.WEIGHTGATE_TOKEN || undefined);
        if (!token) throw new UsageError('no device token: pass --token (from `weightgate device register`) or set WEIGHTGATE_TOKEN');
        const publicKey = requirePublicKey(flags, 'run');
        const { openDevice } = await import('../device-sim/device.ts');
        const intervalSeconds = flags.interval;
        const open = async (powerCut: PowerCutPlan | null) => {
          const sim = await openDevice({ dir: flags.dir, profile: profileOf(flags), server, token, publicKey, powerCut, kernel: kernelOf(flags) });
          const boot = sim.status();
          for (const issue of boot.bootIssues) process.stderr.write(`boot: ${issue}\n`);
          print(
            flags.json,
            { event: 'boot', ...boot, profile: boot.profile.name },
            `booted ${flags.dir}: ${boot.model ?? 'no model'} v${boot.version} slot ${boot.slot ?? '-'}`,
          );
          return sim;
        };
        let sim = await open(flags.powerCut ? parsePowerCut(flags.powerCut) : null);
        const maxChecks = flags.once ? 1 : (flags.maxChecks ?? Infinity);
        let stop = false;
        let wake: (() => void) | null = null;
        const onSignal = () => {
          stop = true;
          wake?.();
        };
        // Push: a notice wakes the loop for a check now instead of at the next poll.
        let noticed = false;
        let subscription: { channel: string; close(): Promise<void> } | null = null;
        const subscribe = async () => {
          const channel = flags.push && !flags.once ? sim.pushChannel() : null;
          const key = channel ? `${channel.url} ${channel.topic}` : '';
          if (subscription?.channel === key) return;
          await subscription?.close();
          subscription = null;
          if (!channel) return;
          const { subscribePush } = await import('../device-sim/push-client.ts');
          const pushed = subscribePush(channel, token, (notice) => {
            print(flags.json, { event: 'notice', ...notice }, `notice: ${notice.kind} changed (${notice.model} v${notice.version}); checking now`);
            noticed = true;
            wake?.();
          });
          subscription = { channel: key, close: () => pushed.close() };
          pushed.ready.then(
            () => print(flags.json, { event: 'push', url: channel.url, topic: channel.topic }, `listening for notices on ${channel.url} ${channel.topic}`),
            (error: Error) => print(flags.json, { event: 'push-error', message: error.message }, `push unavailable (${error.message}); polling only`),
          );
        };
        process.once('SIGINT', onSignal);
        try {
          for (let check = 1; check <= maxChecks && !stop; check++) {
            noticed = false;
            try {
              const outcome = await sim.checkForUpdate();
              print(flags.json, { event: 'check', ...outcome }, describeOutcome(outcome));
            } catch (error) {
              if (error instanceof PowerCutError) {
                // The process "lost power": forget everything in memory and boot from flash.
                print(
                  flags.json,
                  { event: 'power-cut', phase: error.phase, atByte: error.atByte },
                  `power cut during ${error.phase} after ${error.atByte} bytes; rebooting`,
                );
                sim = await open(null);
                continue;
              }
              const reported = await asClientError(error, server);
              if (flags.once) throw reported;
              const coded = reported as { code?: string; message?: string };
              print(
                flags.json,
                { event: 'error', code: coded.code ?? 'ERROR', message: coded.message },
                `check failed: ${coded.code ?? 'ERROR'}: ${coded.message}`,
              );
            }
            await subscribe().catch((error: Error) => print(flags.json, { event: 'push-error', message: error.message }, `push unavailable: ${error.message}`));
            if (check < maxChecks && !stop && !noticed) {
              // A wake (a notice, Ctrl-C) also clears the timer: a pending hour-long poll would keep the process alive.
              let timer: NodeJS.Timeout | undefined;
              await new Promise<void>((resolve) => {
                wake = resolve;
                timer = setTimeout(resolve, intervalSeconds * 1000);
              });
              clearTimeout(timer);
              wake = null;
            }
          }
        } finally {
          process.off('SIGINT', onSignal);
          await (subscription as { close(): Promise<void> } | null)?.close();
        }
      },
    );

  withProfileOptions(
    device
      .command('status')
      .description(
        'Boot a simulated device from its flash directory (verifying its slots) and print what it runs: model, version, intervals, slot, SHA-256, and any problem boot found.',
      ),
  )
    .option('--dir <dir>', 'device flash directory', './device-flash')
    .option('--json', 'print one JSON object')
    .action(async (flags: ProfileFlags & { dir: string }) => {
      // Only `device run` creates a flash directory: a typo here must not make an empty device.
      if (!statSync(flags.dir, { throwIfNoEntry: false })?.isDirectory()) {
        throw Object.assign(
          new UsageError(
            `--dir ${flags.dir} does not exist (or is not a directory); \`weightgate device run --dir ${flags.dir}\` creates a device's flash directory`,
          ),
          {
            code: 'NO_DEVICE_DIR',
          },
        );
      }
      const { openDevice } = await import('../device-sim/device.ts');
      const sim = await openDevice({ dir: flags.dir, profile: profileOf(flags), publicKey: publicKeyOf(flags), kernel: kernelOf(flags) });
      const status = sim.status();
      print(
        flags.json,
        { ...status, profile: status.profile.name },
        `${flags.dir}: ${status.model ?? 'no model'} v${status.version} held intervals [${status.heldIntervals}] slot ${status.slot ?? '-'} ` +
          `(${status.artifactBytes} bytes in a ${status.slotCapacityBytes}-byte slot of ${status.profile.flashBytes} bytes of flash)${status.sha256 ? ` sha256 ${status.sha256}` : ''}` +
          (status.kernel
            ? `\n  kernels: ${status.kernel}${status.imageBytes ? ` (execution image ${status.imageBytes} bytes)` : ''}${status.kernelNote ? ` (${status.kernelNote})` : ''}`
            : '') +
          status.bootIssues.map((issue) => `\n  boot: ${issue}`).join(''),
      );
    });

  withProfileOptions(
    device
      .command('fleet')
      .description(
        'Run N simulated devices against a server, in this process or spread over --workers threads or --processes ' +
          'child processes, and report how long the fleet took to reach the ' +
          'latest (or --target-version) version, bytes per device and failures. Devices get tokens from --tokens-file ' +
          '(one per line), or are registered here with --admin-token under a new customer and license of --model/--tier. ' +
          'Each device keeps its flash under --dir/device-<i>. Exits 1 when a device did not get there.',
      ),
  )
    .option('--server <url>', 'server base URL (default $WEIGHTGATE_SERVER)')
    .requiredOption('--count <n>', 'number of devices', positiveInt('--count'))
    .option('--tokens-file <file>', 'device tokens, one per line (at least --count)')
    .option('--admin-token <token>', 'register --count devices with this admin token instead')
    .option('--model <name>', 'model of the license to create (with --admin-token)')
    .option('--tier <name>', 'tier of the license to create (with --admin-token)', 'full')
    .option('--dir <dir>', 'parent directory of the devices (default: a new temp dir)')
    .option('--target-version <v>', 'keep checking until every device runs this version', positiveInt('--target-version'))
    .option('--timeout <seconds>', 'give up on devices still behind after this long', numberOption('--timeout', { min: 0, max: 86400, unit: 'seconds' }), 60)
    .option('--concurrency <n>', 'checks in flight at once', positiveInt('--concurrency'), 64)
    .option('--workers <n>', 'spread the devices over n worker threads (0 = this thread)', integerOption('--workers', { min: 0, max: 1024 }), 0)
    .option('--processes <n>', 'spread the devices over n child processes instead (0 = none)', integerOption('--processes', { min: 0, max: 1024 }), 0)
    .option(
      '--watch <seconds>',
      'after the round, keep the devices subscribed to push notices this long (or until Ctrl-C), each checking on its notices; one line per update',
      numberOption('--watch', { min: 0, max: 86400, unit: 'seconds' }),
    )
    .option('--json', 'print the summary as JSON')
    .action(
      async (
        flags: ProfileFlags & {
          server?: string;
          count: number;
          tokensFile?: string;
          adminToken?: string;
          model?: string;
          tier: string;
          dir?: string;
          targetVersion?: number;
          timeout: number;
          concurrency: number;
          workers: number;
          processes: number;
          watch?: number;
        },
      ) => {
        const server = serverOf(flags);
        const publicKey = requirePublicKey(flags, 'fleet');
        await assertReachable(server);
        let tokens: string[];
        if (flags.tokensFile) {
          tokens = readFileSync(flags.tokensFile, 'utf8')
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean);
          if (tokens.length < flags.count) throw new UsageError(`${flags.tokensFile} has ${tokens.length} tokens, --count asks for ${flags.count}`);
        } else if (flags.adminToken) {
          if (!flags.model) throw new UsageError('--admin-token needs --model (the model of the license to create)');
          const { provisionDevices } = await import('../server/provision.ts');
          const provisioned = await provisionDevices({ server, adminToken: flags.adminToken, model: flags.model, tier: flags.tier, count: flags.count });
          if (!flags.json) process.stderr.write(`registered ${flags.count} devices under license ${provisioned.licenseId}\n`);
          tokens = provisioned.tokens;
        } else {
          throw new UsageError('devices need tokens: give --tokens-file FILE or --admin-token T --model M');
        }
        const { workers, processes } = flags;
        if (workers > 0 && processes > 0) throw new UsageError('give --workers (threads) or --processes, not both');
        const options = {
          server,
          tokens: tokens.slice(0, flags.count),
          baseDir: flags.dir ?? mkdtempSync(join(tmpdir(), 'weightgate-fleet-')),
          profile: profileOf(flags),
          publicKey,
          concurrency: flags.concurrency,
          kernel: kernelOf(flags),
        };
        const roundOptions = { targetVersion: flags.targetVersion, timeoutMs: flags.timeout * 1000 };
        let summary: FleetSummary;
        // After the round, --watch keeps every device subscribed to its push notices, wherever it runs.
        const watchFor = async (fleet: { watch: Fleet['watch'] }, size: number): Promise<void> => {
          const watch = await fleet.watch({
            onUpdate: (device, outcome, error) =>
              print(
                flags.json,
                { event: 'update', device, kind: outcome?.kind ?? null, version: outcome?.toVersion ?? null, bytes: outcome?.bytesSent ?? 0, error },
                error ? `device ${device}: check failed: ${error}` : `device ${device}: ${describeOutcome(outcome!)}`,
              ),
          });
          if (!flags.json) process.stderr.write(`${watch.subscribed} of ${size} devices listen for push notices for ${flags.watch} s (Ctrl-C stops)\n`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(finish, flags.watch! * 1000);
            function finish() {
              clearTimeout(timer);
              process.off('SIGINT', finish);
              resolve();
            }
            process.once('SIGINT', finish);
          });
          await watch.stop();
          print(
            flags.json,
            { event: 'watched', subscribed: watch.subscribed, notices: watch.notices(), updates: watch.updates(), failures: watch.failures() },
            `watched: ${watch.subscribed} devices subscribed, ${watch.notices()} notices, ${watch.updates()} updates, ${watch.failures()} failed checks`,
          );
        };
        if (workers > 0 || processes > 0) {
          const { openWorkerFleet } = await import('../device-sim/fleet-workers.ts');
          const fleet = await openWorkerFleet({ ...options, workers: workers || processes, mode: processes > 0 ? 'processes' : 'threads' });
          try {
            summary = await fleet.round(roundOptions);
            if (flags.watch !== undefined) await watchFor(fleet, fleet.size);
          } finally {
            await fleet.close();
          }
        } else {
          const { openFleet } = await import('../device-sim/fleet.ts');
          const fleet = await openFleet(options);
          const progress = flags.json ? null : fleetProgress(process.stderr);
          summary = await fleet.round({ ...roundOptions, onDevice: progress ? (done, total) => progress.update(done, total) : undefined });
          progress?.end();
          if (flags.watch !== undefined) await watchFor(fleet, fleet.devices.length);
        }
        print(
          flags.json,
          { baseDir: options.baseDir, ...summary },
          `${summary.reached}/${summary.devices} devices done in ${summary.seconds} s ` +
            `(median ${summary.secondsToReach.median} s, p99 ${summary.secondsToReach.p99} s); ` +
            `bytes per device min ${summary.bytesPerDevice.min} median ${summary.bytesPerDevice.median} max ${summary.bytesPerDevice.max}; ` +
            `patches ${JSON.stringify(summary.patchBytes)}, full downloads ${summary.fullDownloads}; failures ${summary.failures} ${JSON.stringify(summary.errors)}`,
        );
        if (summary.failures > 0)
          throw new CheckFailedError('FLEET_FAILURES', `${summary.failures} of ${summary.devices} devices did not finish: ${JSON.stringify(summary.errors)}`);
      },
    );
}
