package gguf

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bitnet-go/bitnet/kernels"
)

// FuzzParse feeds arbitrary bytes to the reader. It must never panic; every
// error must wrap ErrFormat; allocation must stay proportional to the input;
// and a file it accepts must be consistent (tensors aligned, inside the file,
// not overlapping, of their type's size) and survive a rewrite by the Writer.
// Seeds: valid files from the Writer and every hostile case.
func FuzzParse(f *testing.F) {
	f.Add(writeSample(f, 0))
	f.Add(writeSample(f, 64))
	w := NewWriter()
	w.AddKV("general.architecture", "bitnet")
	w.AddTensor("i2s", kernels.I2_S, []uint64{128, 2}, make([]byte, 2*128/4+32))
	w.AddTensor("tq2", kernels.TQ2_0, []uint64{256}, make([]byte, 66))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	for _, c := range hostileCases() {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var file *File
		var err error
		allocated := allocatedBy(func() { file, err = Parse(b) })
		// Parsed structures cost a small multiple of the bytes they come
		// from (a 13-byte KV becomes a 40-byte entry plus its index).
		if limit := 64*uint64(len(b)) + 64<<10; allocated > limit {
			t.Fatalf("parsing %d bytes allocated %d", len(b), allocated)
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		checkConsistent(t, file, b)
		// Rewriting the accepted file must give a file that parses to the
		// same content: writing it again reproduces the same bytes.
		once := rewrite(t, file)
		again, err := Parse(once)
		if err != nil {
			t.Fatalf("the rewritten file does not parse: %v", err)
		}
		if twice := rewrite(t, again); !bytes.Equal(once, twice) {
			t.Fatalf("rewriting is not stable")
		}
	})
}

// checkConsistent checks the invariants of an accepted file.
func checkConsistent(t *testing.T, f *File, b []byte) {
	t.Helper()
	if f.Alignment == 0 || f.Alignment&(f.Alignment-1) != 0 {
		t.Fatalf("alignment %d", f.Alignment)
	}
	if len(f.Tensors) > 0 && (f.DataOffset%f.Alignment != 0 || f.DataOffset > uint64(len(b))) {
		t.Fatalf("data section at %d of %d bytes, alignment %d", f.DataOffset, len(b), f.Alignment)
	}
	type span struct{ lo, hi uint64 }
	var spans []span
	for i := range f.Tensors {
		tn := &f.Tensors[i]
		size, err := kernels.TensorBytes(tn.Type, tn.Dims[0], tn.Elems())
		if err != nil || uint64(len(tn.Data)) != size {
			t.Fatalf("tensor %q: %d data bytes, size %d, %v", tn.Name, len(tn.Data), size, err)
		}
		lo := f.DataOffset + tn.Offset
		if tn.Offset%f.Alignment != 0 || lo+size > uint64(len(b)) || !bytes.Equal(tn.Data, b[lo:lo+size]) {
			t.Fatalf("tensor %q at %d (+%d) is not an aligned view of the file", tn.Name, lo, size)
		}
		for _, s := range spans {
			if lo < s.hi && s.lo < lo+size {
				t.Fatalf("tensor %q overlaps another", tn.Name)
			}
		}
		spans = append(spans, span{lo, lo + size})
	}
}

// rewrite writes f's metadata and tensors with a Writer.
func rewrite(t *testing.T, f *File) []byte {
	t.Helper()
	w := NewWriter()
	for _, kv := range f.KVs {
		w.AddKV(kv.Key, kv.Value.Any())
	}
	for i := range f.Tensors {
		tn := &f.Tensors[i]
		w.AddTensor(tn.Name, tn.Type, tn.Dims, tn.Data)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatalf("rewriting an accepted file: %v", err)
	}
	return buf.Bytes()
}
