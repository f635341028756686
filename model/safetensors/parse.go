package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"sort"
	"unicode/utf8"
)

// headerEntry is one tensor's record in the JSON header.
type headerEntry struct {
	DType       DType
	Shape       []uint64
	DataOffsets []uint64
}

// Parse reads a safetensors file held in b. The returned tensors are views
// into b, which must stay unchanged while they are in use.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is too short for the 8-byte header length", ErrFormat, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	avail := uint64(len(b) - 8)
	switch {
	case n > MaxHeaderSize:
		return nil, fmt.Errorf("%w: header length %d exceeds the limit of %d bytes", ErrFormat, n, MaxHeaderSize)
	case n > avail:
		return nil, fmt.Errorf("%w: header length %d exceeds the %d bytes after the length field", ErrFormat, n, avail)
	case n < 2:
		return nil, fmt.Errorf("%w: header length %d is too short for a JSON object", ErrFormat, n)
	}
	header := b[8 : 8+n]
	data := b[8+n:]
	if header[0] != '{' {
		return nil, fmt.Errorf("%w: header does not start with '{'", ErrFormat)
	}
	if !utf8.Valid(header) {
		return nil, fmt.Errorf("%w: header is not valid UTF-8", ErrFormat)
	}
	f := &File{HeaderSize: n}
	entries, err := decodeHeader(header, f)
	if err != nil {
		return nil, err
	}
	f.Tensors = make([]Tensor, 0, len(entries))
	for _, e := range entries {
		begin, end, err := checkEntry(e.name, e.entry, uint64(len(data)))
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, Tensor{
			Name: e.name, DType: e.entry.DType, Shape: e.entry.Shape,
			Offset: begin, Data: data[begin:end:end],
		})
	}
	sort.SliceStable(f.Tensors, func(i, j int) bool {
		a, b := &f.Tensors[i], &f.Tensors[j]
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		return len(a.Data) < len(b.Data)
	})
	// Sorted by start, a tensor overlaps another exactly when it starts before
	// the furthest end seen so far.
	var end uint64
	var last string
	for i := range f.Tensors {
		t := &f.Tensors[i]
		if t.Offset < end {
			return nil, fmt.Errorf("%w: tensor %q (bytes %d..%d) overlaps tensor %q", ErrFormat, t.Name, t.Offset, t.Offset+uint64(len(t.Data)), last)
		}
		if e := t.Offset + uint64(len(t.Data)); e > end {
			end, last = e, t.Name
		}
	}
	f.index = make(map[string]int, len(f.Tensors))
	for i := range f.Tensors {
		f.index[f.Tensors[i].Name] = i
	}
	return f, nil
}

type namedEntry struct {
	name  string
	entry headerEntry
}

// decodeHeader walks the top-level JSON object key by key, so that duplicate
// names are caught (a plain map decode would silently keep the last one), and
// stores __metadata__ in f.
func decodeHeader(header []byte, f *File) ([]namedEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil { // the '{' checked by the caller
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	var entries []namedEntry
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: header key %v is not a string", ErrFormat, tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: header names %q twice", ErrFormat, name)
		}
		seen[name] = true
		if name == MetadataKey {
			var md map[string]string
			if err := dec.Decode(&md); err != nil {
				return nil, fmt.Errorf("%w: %s must be an object of strings: %v", ErrFormat, MetadataKey, err)
			}
			f.Metadata = md
			continue
		}
		e, err := decodeEntry(dec)
		if err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrFormat, name, err)
		}
		entries = append(entries, namedEntry{name, e})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	for _, c := range header[dec.InputOffset():] {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, fmt.Errorf("%w: header has bytes after its JSON object", ErrFormat)
		}
	}
	return entries, nil
}

// decodeEntry reads one tensor record. Field names must match exactly and
// appear once (encoding/json alone would accept "DType" or a repeated field,
// which the reference implementation rejects); unknown fields are skipped.
func decodeEntry(dec *json.Decoder) (headerEntry, error) {
	var e headerEntry
	tok, err := dec.Token()
	if err != nil {
		return e, err
	}
	if tok != json.Delim('{') {
		return e, fmt.Errorf("record is %v, not an object", tok)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return e, err
		}
		key, _ := tok.(string) // object keys are always strings
		if seen[key] {
			return e, fmt.Errorf("field %q given twice", key)
		}
		seen[key] = true
		switch key {
		case "dtype":
			err = dec.Decode(&e.DType)
		case "shape":
			err = dec.Decode(&e.Shape)
		case "data_offsets":
			err = dec.Decode(&e.DataOffsets)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return e, fmt.Errorf("field %q: %v", key, err)
		}
	}
	_, err = dec.Token() // the closing '}'
	return e, err
}

// checkEntry validates one header record against a data section of dataLen
// bytes and returns the tensor's byte range within that section.
func checkEntry(name string, e headerEntry, dataLen uint64) (begin, end uint64, err error) {
	if e.DType == "" {
		return 0, 0, fmt.Errorf("%w: tensor %q has no dtype", ErrFormat, name)
	}
	size := e.DType.Size()
	if size == 0 {
		return 0, 0, fmt.Errorf("%w: tensor %q has unknown dtype %q", ErrFormat, name, e.DType)
	}
	if e.Shape == nil {
		return 0, 0, fmt.Errorf("%w: tensor %q has no shape", ErrFormat, name)
	}
	if len(e.DataOffsets) != 2 {
		return 0, 0, fmt.Errorf("%w: tensor %q: data_offsets must be [begin, end], got %d numbers", ErrFormat, name, len(e.DataOffsets))
	}
	begin, end = e.DataOffsets[0], e.DataOffsets[1]
	if begin > end {
		return 0, 0, fmt.Errorf("%w: tensor %q: data_offsets begin %d is after end %d", ErrFormat, name, begin, end)
	}
	if end > dataLen {
		return 0, 0, fmt.Errorf("%w: tensor %q: data_offsets end %d is beyond the %d data bytes", ErrFormat, name, end, dataLen)
	}
	elems := uint64(1)
	for _, d := range e.Shape {
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 {
			return 0, 0, fmt.Errorf("%w: tensor %q: shape %v overflows", ErrFormat, name, e.Shape)
		}
		elems = lo
	}
	hi, want := bits.Mul64(elems, size)
	if hi != 0 || want != end-begin {
		return 0, 0, fmt.Errorf("%w: tensor %q: shape %v of %s needs %d elements × %d bytes but data_offsets span %d bytes",
			ErrFormat, name, e.Shape, e.DType, elems, size, end-begin)
	}
	return begin, end, nil
}
