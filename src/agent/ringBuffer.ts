/**
 * A fixed-capacity ring: the newest item overwrites the oldest once full, so memory stays bounded
 * however long the extension runs. The agent's replay buffer and its dashboard stats both keep one.
 * `toArray` is oldest first.
 */
export class RingBuffer<T> {
  private items: T[] = [];
  private head = 0;
  private limit: number;

  constructor(capacity: number) {
    this.limit = checkedCapacity(capacity);
  }

  get capacity(): number {
    return this.limit;
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
    } else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }

  /**
   * The item at storage position `index` (0 ≤ index < size), in no particular age order: what uniform
   * sampling needs, without copying the ring.
   */
  slot(index: number): T {
    return this.items[index];
  }

  /** The newest item matching `test`, without copying the ring. */
  findLast(test: (item: T) => boolean): T | undefined {
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[(this.head + i) % this.items.length];
      if (test(item)) {
        return item;
      }
    }
    return undefined;
  }

  clear(): void {
    this.items.length = 0;
    this.head = 0;
  }

  /** A new capacity that keeps the newest items (all of them when they fit), oldest first as before. */
  resize(capacity: number): void {
    const limit = checkedCapacity(capacity);
    if (limit !== this.limit) {
      const kept = this.toArray();
      this.items = kept.slice(Math.max(0, kept.length - limit));
      this.head = 0;
      this.limit = limit;
    }
  }
}

function checkedCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`Ring capacity must be a positive integer, got ${capacity}.`);
  }
  return capacity;
}
