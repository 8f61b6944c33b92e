// How stages report progress: the CLI plugs in bars (TTY) or log lines; tests
// and the demo pass nothing and get silence.

export interface ProgressSink {
  /** A stage with `total` units of work begins. */
  start(stage: string, total: number): void;
  /** `done` of `total` units are finished; `info` is a short status (loss, accuracy). */
  update(done: number, info?: string): void;
  /** The current stage ended. */
  stop(): void;
  /** A one-line message. */
  log(line: string): void;
}

export const silentProgress: ProgressSink = {
  start() {},
  update() {},
  stop() {},
  log() {},
};
