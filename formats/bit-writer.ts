// Little-endian bit packing (first bit = least significant bit of the first
// byte, as in DEFLATE, RFC 1951 §3.1.1), sized once from an upper bound.

export class BitWriter {
  private readonly bytes: Uint8Array;
  private bitLength = 0;

  constructor(maxBits: number) {
    this.bytes = new Uint8Array(Math.ceil(maxBits / 8));
  }

  /** Writes the low `n` bits of `value` (n <= 24). */
  writeBits(value: number, n: number): void {
    for (let i = 0; i < n; i++) {
      if ((value >>> i) & 1) this.bytes[this.bitLength >>> 3]! |= 1 << (this.bitLength & 7);
      this.bitLength++;
    }
  }

  /** Writes `q` one-bits then a zero-bit (the unary part of a Rice code). */
  writeUnary(q: number): void {
    for (let i = 0; i < q; i++) {
      this.bytes[this.bitLength >>> 3]! |= 1 << (this.bitLength & 7);
      this.bitLength++;
    }
    this.bitLength++;
  }

  get bits(): number {
    return this.bitLength;
  }

  /** The written bytes; padding bits of the last byte are zero. */
  finish(): Uint8Array {
    return this.bytes.subarray(0, Math.ceil(this.bitLength / 8));
  }
}
