// binary-parser 2.3 ships typings its package.json "exports" does not expose to
// NodeNext resolution; this declares the part of its API the codec uses.
declare module 'binary-parser' {
  export class Parser {
    constructor();
    endianness(e: 'little' | 'big'): Parser;
    skip(n: number): Parser;
    uint8(name: string): Parser;
    uint16(name: string): Parser;
    uint32(name: string): Parser;
    parse(buffer: Uint8Array): unknown;
  }
}
