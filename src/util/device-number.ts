// A device file's number (stat's rdev, a 64-bit dev_t) split as glibc's major() and minor() do.

export function deviceNumbers(rdev: number | bigint): { major: number; minor: number } {
  const dev = BigInt(rdev);
  return {
    major: Number(((dev >> 32n) & 0xfffff000n) | ((dev >> 8n) & 0xfffn)),
    minor: Number(((dev >> 12n) & 0xffffff00n) | (dev & 0xffn)),
  };
}
