// Package mmapfile maps model files read-only into memory so that tensors can
// be used in place, without copying them onto the Go heap. On systems without
// mmap, or for files that cannot be mapped, the file is read instead.
package mmapfile

import "os"

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
