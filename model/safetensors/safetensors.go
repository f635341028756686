// Package safetensors reads and writes safetensors files, the weight format
// of Hugging Face model directories, including sharded models described by a
// model.safetensors.index.json.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON that map
// tensor names to their dtype, shape and byte range, an optional
// "__metadata__" object of strings, and then the raw little-endian tensor
// bytes. Shapes are row-major: the last dimension is the contiguous one (the
// reverse of GGUF's order).
//
// A File is parsed from a byte slice, normally a read-only memory map, and its
// tensors are zero-copy views into it. The header length is checked against
// the file size and MaxHeaderSize before the JSON is touched, and every
// tensor's byte range is checked to lie inside the file, to match its dtype and
// shape exactly, and not to overlap another tensor, so a hostile file can
// neither crash the reader nor make it allocate more than the header's size.
package safetensors

import (
	"errors"
	"fmt"
)

// MaxHeaderSize is the largest JSON header accepted, in bytes (the limit of
// the reference Rust implementation). The header must also fit in the file.
const MaxHeaderSize = 100_000_000

// MetadataKey is the header key of the free-form string metadata.
const MetadataKey = "__metadata__"

// ErrFormat is wrapped by every error that reports a malformed file.
var ErrFormat = errors.New("malformed safetensors")

// ErrDType is wrapped by errors that report a tensor whose dtype cannot be
// read the way the caller asked.
var ErrDType = errors.New("unsupported dtype")

// Tensor describes one tensor of a file. Data is a view into the file's bytes
// and must not be modified.
type Tensor struct {
	Name  string
	DType DType
	// Shape lists the dimensions outermost first; the last one is contiguous.
	// An empty shape is a scalar (one element).
	Shape []uint64
	// Offset is the position of Data relative to the start of the data
	// section (the byte after the header).
	Offset uint64
	Data   []byte
	// Source is the path of the file the tensor came from, or "" for a file
	// parsed from memory. Error messages name it.
	Source string
}

// Elems returns the number of elements of the tensor.
func (t *Tensor) Elems() uint64 {
	n := uint64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// where names the tensor and its file for error messages.
func (t *Tensor) where() string {
	if t.Source == "" {
		return fmt.Sprintf("tensor %q", t.Name)
	}
	return fmt.Sprintf("tensor %q in %s", t.Name, t.Source)
}

// File is a parsed safetensors file.
type File struct {
	// Path is the file's path, or "" when parsed from memory.
	Path string
	// Metadata holds the header's __metadata__ strings (nil when absent).
	Metadata map[string]string
	// Tensors are ordered by their position in the data section.
	Tensors []Tensor
	// HeaderSize is the length of the JSON header; data starts at 8+HeaderSize.
	HeaderSize uint64

	index  map[string]int
	closer func() error
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*Tensor, bool) {
	i, ok := f.index[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Close releases the memory map behind the file, if any. The tensors' data
// must not be used afterwards.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c()
}
