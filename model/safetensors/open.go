package safetensors

import (
	"fmt"

	"github.com/bitnet-go/bitnet/model/mmapfile"
)

// Open maps the safetensors file at path read-only into memory and parses it.
// The tensors' Data slices point into the mapping; call Close when done.
func Open(path string) (*File, error) {
	data, release, err := mmapfile.Map(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f, err := Parse(data)
	if err != nil {
		release()
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	f.Path = path
	for i := range f.Tensors {
		f.Tensors[i].Source = path
	}
	f.closer = release
	return f, nil
}
