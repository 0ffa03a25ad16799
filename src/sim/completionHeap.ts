/**
 * The running jobs ordered by finish time: a binary min-heap, so each start and finish costs
 * O(log running) however long the trace. Ties finish in start order, which keeps runs deterministic.
 */

interface Entry<T> {
  atSec: number;
  seq: number;
  item: T;
}

export class CompletionHeap<T> {
  private readonly entries: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.entries.length;
  }

  /** Finish time of the earliest job, or Infinity when nothing runs. */
  peekTime(): number {
    return this.entries.length > 0 ? this.entries[0].atSec : Infinity;
  }

  push(atSec: number, item: T): void {
    const e = this.entries;
    e.push({ atSec, seq: this.seq++, item });
    let i = e.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(e[i], e[parent])) {
        break;
      }
      [e[i], e[parent]] = [e[parent], e[i]];
      i = parent;
    }
  }

  pop(): T | undefined {
    const e = this.entries;
    const top = e[0];
    const last = e.pop();
    if (top === undefined || last === undefined) {
      return undefined;
    }
    if (e.length > 0) {
      e[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < e.length && before(e[l], e[m])) {
          m = l;
        }
        if (r < e.length && before(e[r], e[m])) {
          m = r;
        }
        if (m === i) {
          break;
        }
        [e[i], e[m]] = [e[m], e[i]];
        i = m;
      }
    }
    return top.item;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.atSec < b.atSec || (a.atSec === b.atSec && a.seq < b.seq);
}
