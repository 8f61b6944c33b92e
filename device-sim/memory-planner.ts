// Plans where scratch buffers live inside the arena, apart from the arena
// allocator itself (as TFLite Micro's memory_planner/). A buffer is needed
// from step `firstUse` to step `lastUse` (inclusive); two buffers whose
// lifetimes do not overlap may share bytes. For a chain of Dense layers this
// turns into ping-pong activation buffers without special-casing them.
//
// Greedy, like TFLM's GreedyMemoryPlanner: place the largest buffers first,
// each at the lowest offset that does not collide with an already placed
// buffer alive at the same time.
import { alignUp } from './arena.ts';

export interface BufferRequest {
  label: string;
  bytes: number;
  firstUse: number;
  lastUse: number;
}

export interface MemoryPlan {
  /** Offset of each request (same order as requested), relative to the plan's base. */
  offsets: number[];
  /** Bytes the whole plan occupies. */
  totalBytes: number;
}

export interface MemoryPlanner {
  addBuffer(request: BufferRequest): number;
  plan(): MemoryPlan;
}

export function createGreedyMemoryPlanner(): MemoryPlanner {
  const requests: BufferRequest[] = [];
  return {
    addBuffer(request) {
      requests.push(request);
      return requests.length - 1;
    },
    plan() {
      const order = requests.map((_, i) => i).sort((a, b) => requests[b].bytes - requests[a].bytes || a - b);
      const offsets = new Array<number>(requests.length).fill(-1);
      const placed: number[] = [];
      let totalBytes = 0;
      for (const index of order) {
        const request = requests[index];
        const live = placed
          .filter((other) => requests[other].firstUse <= request.lastUse && request.firstUse <= requests[other].lastUse)
          .sort((a, b) => offsets[a] - offsets[b]);
        let candidate = 0;
        for (const other of live) {
          const otherStart = offsets[other];
          const otherEnd = alignUp(otherStart + requests[other].bytes);
          if (candidate + request.bytes <= otherStart) break;
          if (otherEnd > candidate) candidate = otherEnd;
        }
        offsets[index] = candidate;
        placed.push(index);
        totalBytes = Math.max(totalBytes, candidate + request.bytes);
      }
      return { offsets, totalBytes };
    },
  };
}
