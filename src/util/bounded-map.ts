// A Map with a cap, for the daemon's in-memory caches (image records, unpacked chains,
// seccomp programs): once full, each new key pushes out the oldest one inserted.
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (!this.has(key) && this.size >= this.limit) {
      const oldest = this.keys().next();
      if (oldest.done !== true) this.delete(oldest.value);
    }
    return super.set(key, value);
  }
}
