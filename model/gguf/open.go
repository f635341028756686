package gguf

import (
	"fmt"
	"os"
)

// Open maps the GGUF file at path read-only into memory and parses it. The
// tensors' Data slices point into the mapping; call Close when done.
func Open(path string) (*File, error) {
	data, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		release()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f.closer = release
	return f, nil
}

// readWhole is the fallback for systems without mmap and for files that
// cannot be mapped (for example empty ones).
func readWhole(path string) ([]byte, func() error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return b, func() error { return nil }, nil
}
