// binary-parser 2.3 ships typings its package.json "exports" does not expose to
// NodeNext resolution; this declares the part of its API bench/layout-engines.ts uses
// (the toolkit itself does not use binary-parser: see README "Design notes").
declare module 'binary-parser' {
  export class Parser {
    constructor();
    endianness(e: 'little' | 'big'): Parser;
    uint8(name: string): Parser;
    uint16(name: string): Parser;
    uint32(name: string): Parser;
    uint64(name: string): Parser;
    buffer(name: string, options: { length: number; clone?: boolean }): Parser;
    parse(buffer: Uint8Array): unknown;
  }
}
