//go:build !unix

package mmapfile

// mapFile reads the whole file on systems without mmap support.
func mapFile(path string) ([]byte, func() error, error) {
	return readWhole(path)
}

// release does nothing where files are read rather than mapped.
func release([]byte) error { return nil }
