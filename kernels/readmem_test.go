package kernels

import (
	"encoding/binary"
	"testing"
)

func TestReadMemory(t *testing.T) {
	rng := newRand(60)
	for _, n := range []int{0, 1, 7, 8, 9, 255, 256, 257, 1000, 4096 + 13} {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		var want uint64
		for i := 0; i < n; i += 8 {
			var w [8]byte
			copy(w[:], b[i:])
			want += binary.LittleEndian.Uint64(w[:])
		}
		if got := ReadMemory(b); got != want {
			t.Errorf("ReadMemory of %d bytes = %#x, want %#x", n, got, want)
		}
		if got := readMemoryGeneric(b); got != want {
			t.Errorf("readMemoryGeneric of %d bytes = %#x, want %#x", n, got, want)
		}
	}
}
