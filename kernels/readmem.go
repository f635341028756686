package kernels

import "encoding/binary"

// ReadMemory reads every byte of b with the widest loads the CPU offers and
// returns a checksum of what it read: the sum, modulo 2^64, of b's
// little-endian 64-bit words, the last one zero-padded. The checksum keeps
// the reads from being optimised away; the function exists to measure how
// fast memory can be read (bitnet bench compares decoding with it).
func ReadMemory(b []byte) uint64 {
	n := len(b) &^ (readMemoryBlock - 1)
	return readMemoryBlocks(b[:n]) + readMemoryGeneric(b[n:])
}

// readMemoryBlock is the granule of readMemoryBlocks.
const readMemoryBlock = 256

// readMemoryGeneric is the portable checksum of ReadMemory.
func readMemoryGeneric(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	for len(b) >= 32 {
		s0 += binary.LittleEndian.Uint64(b)
		s1 += binary.LittleEndian.Uint64(b[8:])
		s2 += binary.LittleEndian.Uint64(b[16:])
		s3 += binary.LittleEndian.Uint64(b[24:])
		b = b[32:]
	}
	for len(b) >= 8 {
		s0 += binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	if len(b) > 0 {
		var last [8]byte
		copy(last[:], b)
		s0 += binary.LittleEndian.Uint64(last[:])
	}
	return s0 + s1 + s2 + s3
}
