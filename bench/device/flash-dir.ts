// Where the benches put simulated devices' flash directories: $BENCH_FLASH_DIR
// when set (a tmpfs such as /dev/shm is the fair choice: a device's flash is
// not a disk, and file-system latency is the simulator's, not the update's),
// else the system's temporary directory. The results say which.
import { tmpdir } from 'node:os';

export const BENCH_FLASH_DIR = process.env.BENCH_FLASH_DIR || tmpdir();
/** For the results: which of the two, never the machine's path. */
export const BENCH_FLASH_DIR_SOURCE = process.env.BENCH_FLASH_DIR ? 'BENCH_FLASH_DIR' : 'the temporary directory';
