package mmapfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestRelease checks that released mapped bytes read back unchanged (from
// the file) and that Release leaves memory it did not map alone: advising
// heap memory away would zero it.
func TestRelease(t *testing.T) {
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte(i*7 + i>>12)
	}
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	data, unmap, err := Map(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatal("mapped bytes differ from the file")
	}
	if err := Release(data[100 : len(data)-100]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, want) {
		t.Fatal("released bytes read back differently")
	}
	if err := unmap(); err != nil {
		t.Fatal(err)
	}
	heap := append([]byte(nil), want...)
	if err := Release(heap); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(heap, want) {
		t.Fatal("Release changed heap memory")
	}
	if mappings.contains(data) {
		t.Fatal("an unmapped region is still recorded as mapped")
	}
}
