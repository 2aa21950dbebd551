// Used by build-agent.mjs: moves the one-file agent's code and read-only data one page further
// into the file, so that the kernel can never map them with 2 MB page-table entries.
//
// Why: a file read with read() (cat, sha256sum, cp from it, a download tool) sits in the page
// cache in large folios, up to 2 MB each on ext4/XFS with a recent kernel. When such a folio lies
// at a file offset congruent to its address modulo 2 MB, a fault anywhere in it maps all of it
// with one PMD entry (smaps: FilePmdMapped), and all of it counts in RSS. The agent touches
// scattered bytes of node's ICU data, built-in JS sources and startup snapshot: with the
// executable in the page cache that way its peak RSS was 75 MB instead of 59 (rodata 24.6 MB
// mapped instead of 13.8, 18 MB of it PMD-mapped). One page of padding before the second
// PT_LOAD segment keeps every address the same and makes every later segment's file offset differ
// from its address by 4 MB - 4 KB (x86-64): no longer congruent, so folios are mapped page by page
// (fault-around, 64 KB at a time), whatever the page cache holds.
//
// Only offsets change (the program and section headers' p_offset / sh_offset, and the headers'
// own offsets in the ELF header); addresses, the dynamic section and symbol tables hold addresses
// and stay valid. Node finds the SEA blob through its PT_NOTE segment in memory, by address.

const PAGE = 4096;
const PMD = 2 * 1024 * 1024;
const PT_LOAD = 1;
const SHT_NOBITS = 8;

/**
 * The ELF file `elf` with padding inserted before its first PT_LOAD segment that does not start
 * at offset 0: one page, or the segments' alignment if larger (an arm64 build aligned to 64 KB
 * for kernels with 64 KB pages stays loadable there); `elf` unchanged when that alignment is
 * 2 MB already. Throws on anything but a little-endian 64-bit ELF file.
 * @param {Buffer} elf
 * @returns {Buffer}
 */
export function unalignSegments(elf) {
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error('not a little-endian 64-bit ELF file');
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const loads = [];
  let pad = PAGE;
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (elf.readUInt32LE(o) !== PT_LOAD) continue;
    loads.push(Number(elf.readBigUInt64LE(o + 8)));
    pad = Math.max(pad, Number(elf.readBigUInt64LE(o + 0x30)));
  }
  if (pad >= PMD) return elf;
  const at = Math.min(...loads.filter((off) => off > 0));
  if (!Number.isFinite(at) || at % pad !== 0) throw new Error('no aligned PT_LOAD segment after the first');
  const out = Buffer.concat([elf.subarray(0, at), Buffer.alloc(pad), elf.subarray(at)]);
  const moved = (o) => (o >= at ? o + pad : o);
  const shift = (o) => {
    const v = Number(out.readBigUInt64LE(o));
    if (v >= at) out.writeBigUInt64LE(BigInt(v + pad), o);
  };
  shift(0x20);
  shift(0x28);
  for (let i = 0; i < phnum; i++) shift(moved(phoff) + i * phentsize + 8);
  for (let i = 0; i < shnum; i++) {
    const o = moved(shoff) + i * shentsize;
    if (out.readUInt32LE(o + 4) !== SHT_NOBITS) shift(o + 0x18);
  }
  return out;
}
