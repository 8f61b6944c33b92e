// How the demo tells its story on a terminal: numbered steps, indented figure
// lines, and one line per pipeline stage (with its duration) instead of bars,
// so the account stays readable when piped to a file.
import type { Narrator } from './story.ts';

export function createConsoleNarrator(write: (text: string) => void): Narrator {
  let stepNumber = 0;
  let stage: { name: string; total: number; started: number; info: string } | null = null;
  return {
    step(title) {
      stepNumber++;
      write(`\n${stepNumber}. ${title}\n`);
    },
    say(line) {
      write(`   ${line}\n`);
    },
    progress: {
      start(name, total) {
        stage = { name, total, started: performance.now(), info: '' };
      },
      update(_done, info) {
        if (stage && info) stage.info = info;
      },
      stop() {
        if (!stage) return;
        const seconds = ((performance.now() - stage.started) / 1000).toFixed(1);
        write(`   · ${stage.name}: ${seconds} s${stage.info ? ` (${stage.info})` : ''}\n`);
        stage = null;
      },
      log() {},
    },
  };
}
