// Package mmapfile maps model files read-only into memory so that tensors can
// be used in place, without copying them onto the Go heap. On systems without
// mmap, or for files that cannot be mapped, the file is read instead.
package mmapfile

import (
	"fmt"
	"os"
	"sync"
	"unsafe"
)

// Map returns the contents of the file at path and a function that releases
// them. The returned bytes must not be modified or used after release.
func Map(path string) ([]byte, func() error, error) {
	return mapFile(path)
}

func readWhole(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}

// Release tells the operating system that the bytes b, part of a mapping
// returned by Map, are not needed for now: the whole pages among them leave
// the process's resident memory, and are read again from the file if touched.
// It is for data that was read once, at load, and is kept in another form.
// Bytes that are not part of a live mapping (a file that was read instead of
// mapped, heap memory) are left alone.
func Release(b []byte) error {
	if len(b) == 0 || !mappings.contains(b) {
		return nil
	}
	if err := release(b); err != nil {
		return fmt.Errorf("release mapped pages: %w", err)
	}
	return nil
}

// mappings records the live mappings, so that Release only ever advises
// mapped memory.
var mappings mappingSet

type mappingSet struct {
	mu     sync.Mutex
	ranges [][2]uintptr // [start, end) of each mapping
}

func bounds(b []byte) [2]uintptr {
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return [2]uintptr{start, start + uintptr(len(b))}
}

func (s *mappingSet) add(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ranges = append(s.ranges, bounds(b))
}

func (s *mappingSet) remove(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := bounds(b)
	for i, m := range s.ranges {
		if m == r {
			s.ranges = append(s.ranges[:i], s.ranges[i+1:]...)
			return
		}
	}
}

func (s *mappingSet) contains(b []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := bounds(b)
	for _, m := range s.ranges {
		if r[0] >= m[0] && r[1] <= m[1] {
			return true
		}
	}
	return false
}
