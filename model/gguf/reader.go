// Package gguf reads and writes GGUF v3 files, the model format of llama.cpp
// and bitnet.cpp.
//
// A File is parsed from a byte slice, normally a read-only memory map of the
// file, and its tensors are zero-copy views into that slice. Every length and
// count read from the header is checked against the bytes that remain before
// anything is allocated, so a small hostile file cannot make the reader
// allocate gigabytes, and every tensor is checked to lie inside the file.
package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"

	"github.com/bitnet-go/bitnet/kernels"
)

// Magic is the four bytes every GGUF file starts with.
const Magic = "GGUF"

// DefaultAlignment is the alignment of the tensor data section and of every
// tensor within it when the file has no general.alignment key.
const DefaultAlignment = 32

// MaxAlignment is the largest general.alignment bitnet reads or writes.
const MaxAlignment = 1 << 20

// MaxDims is the largest number of dimensions a GGUF tensor may have.
const MaxDims = 4

// maxArrayDepth bounds nesting of array values so a hostile file cannot
// recurse without limit.
const maxArrayDepth = 8

// ErrFormat is wrapped by every error that reports a malformed file.
var ErrFormat = errors.New("malformed GGUF")

// KV is one metadata entry.
type KV struct {
	Key   string
	Value Value
}

// Tensor describes one tensor of a file. Data is a view into the file's
// bytes and must not be modified.
type Tensor struct {
	Name string
	Type kernels.Type
	// Dims are the dimensions with the contiguous one first (GGML's ne0, ne1, ...).
	Dims []uint64
	// Offset is the position of the tensor's data relative to the data section.
	Offset uint64
	Data   []byte
}

// Elems returns the number of elements of the tensor.
func (t *Tensor) Elems() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Rows returns the number of contiguous rows: the product of all dimensions
// but the first.
func (t *Tensor) Rows() uint64 {
	n := uint64(1)
	for _, d := range t.Dims[1:] {
		n *= d
	}
	return n
}

// Cols returns the length of a contiguous row (Dims[0]).
func (t *Tensor) Cols() uint64 { return t.Dims[0] }

// File is a parsed GGUF file.
type File struct {
	Version   uint32
	Alignment uint64
	KVs       []KV
	Tensors   []Tensor
	// DataOffset is the absolute position of the tensor data section.
	DataOffset uint64

	kvIndex     map[string]int
	tensorIndex map[string]int
	closer      func() error
}

// Close releases the memory map behind the file, if any. The file's tensor
// data must not be used afterwards.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c()
}

// Get returns the metadata value for key.
func (f *File) Get(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// String returns a string metadata value.
func (f *File) String(key string) (string, bool) {
	v, ok := f.Get(key)
	if !ok {
		return "", false
	}
	return v.String()
}

// Int returns an integer metadata value of any integer type.
func (f *File) Int(key string) (int64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	return v.Int()
}

// Float returns a float or integer metadata value.
func (f *File) Float(key string) (float64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	return v.Float()
}

// Bool returns a bool metadata value.
func (f *File) Bool(key string) (bool, bool) {
	v, ok := f.Get(key)
	if !ok {
		return false, false
	}
	return v.Bool()
}

// Strings returns an array-of-strings metadata value.
func (f *File) Strings(key string) ([]string, bool) {
	v, ok := f.Get(key)
	if !ok {
		return nil, false
	}
	return v.Strings()
}

// Float32s returns an array of numbers as float32.
func (f *File) Float32s(key string) ([]float32, bool) {
	v, ok := f.Get(key)
	if !ok {
		return nil, false
	}
	return v.Float32s()
}

// Ints returns an array of integers as int64.
func (f *File) Ints(key string) ([]int64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return nil, false
	}
	return v.Ints()
}

// Tensor returns the tensor called name.
func (f *File) Tensor(name string) (*Tensor, bool) {
	i, ok := f.tensorIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// Architecture returns general.architecture, or "" when absent.
func (f *File) Architecture() string {
	s, _ := f.String("general.architecture")
	return s
}

// decoder reads little-endian values from a byte slice and records the first
// error. All reads past the end fail instead of panicking.
type decoder struct {
	b   []byte
	off uint64
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: at byte %d: %s", ErrFormat, d.off, fmt.Sprintf(format, args...))
	}
}

func (d *decoder) remaining() uint64 {
	if d.off > uint64(len(d.b)) {
		return 0
	}
	return uint64(len(d.b)) - d.off
}

func (d *decoder) take(n uint64, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.remaining() {
		d.fail("%s needs %d bytes but only %d remain (truncated file?)", what, n, d.remaining())
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) u8(what string) uint8 {
	p := d.take(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

func (d *decoder) u16(what string) uint16 {
	p := d.take(2, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

func (d *decoder) u32(what string) uint32 {
	p := d.take(4, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

func (d *decoder) u64(what string) uint64 {
	p := d.take(8, what)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(p)
}

func (d *decoder) str(what string) string {
	n := d.u64(what + " length")
	if d.err != nil {
		return ""
	}
	if n > d.remaining() {
		d.fail("%s length %d exceeds the %d bytes that remain", what, n, d.remaining())
		return ""
	}
	return string(d.take(n, what))
}

// Parse decodes a GGUF file held in b. Tensor data are views into b. The
// returned File does not own b; use Open to map a file from disk.
func Parse(b []byte) (*File, error) {
	d := &decoder{b: b}
	magic := d.take(4, "magic")
	if d.err != nil {
		return nil, d.err
	}
	if string(magic) != Magic {
		return nil, fmt.Errorf("%w: bad magic %q (not a GGUF file)", ErrFormat, magic)
	}
	f := &File{Version: d.u32("version"), Alignment: DefaultAlignment}
	if d.err != nil {
		return nil, d.err
	}
	if f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w: unsupported GGUF version %d (want 2 or 3)", ErrFormat, f.Version)
	}
	nTensors := d.u64("tensor count")
	nKV := d.u64("metadata count")
	if d.err != nil {
		return nil, d.err
	}
	// Each KV takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor
	// info at least 8 + 4 + 8 + 4 + 8.
	if nKV > d.remaining()/13 {
		return nil, fmt.Errorf("%w: metadata count %d cannot fit in %d bytes", ErrFormat, nKV, d.remaining())
	}
	f.KVs = make([]KV, 0, capHint(nKV))
	f.kvIndex = make(map[string]int, capHint(nKV))
	for i := uint64(0); i < nKV; i++ {
		key := d.str("metadata key")
		vt := ValueType(d.u32("metadata type"))
		if d.err != nil {
			return nil, d.err
		}
		v := d.value(vt, 0, key)
		if d.err != nil {
			return nil, d.err
		}
		if _, dup := f.kvIndex[key]; dup {
			return nil, fmt.Errorf("%w: duplicate metadata key %q", ErrFormat, key)
		}
		f.kvIndex[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{key, v})
	}
	if v, ok := f.Get("general.alignment"); ok {
		a, err := alignmentValue(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrFormat, err)
		}
		f.Alignment = a
	}

	if nTensors > d.remaining()/32 {
		return nil, fmt.Errorf("%w: tensor count %d cannot fit in %d bytes", ErrFormat, nTensors, d.remaining())
	}
	f.Tensors = make([]Tensor, 0, capHint(nTensors))
	f.tensorIndex = make(map[string]int, capHint(nTensors))
	for i := uint64(0); i < nTensors; i++ {
		t := d.tensorInfo()
		if d.err != nil {
			return nil, d.err
		}
		if _, dup := f.tensorIndex[t.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate tensor %q", ErrFormat, t.Name)
		}
		f.tensorIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	f.DataOffset = alignUp(d.off, f.Alignment)
	if len(f.Tensors) > 0 && f.DataOffset > uint64(len(b)) {
		return nil, fmt.Errorf("%w: tensor data section starts at %d, beyond the end of the %d-byte file", ErrFormat, f.DataOffset, len(b))
	}
	if err := f.placeTensors(b); err != nil {
		return nil, err
	}
	return f, nil
}

// alignmentValue validates a general.alignment value: an integer power of
// two no larger than MaxAlignment.
func alignmentValue(v Value) (uint64, error) {
	a, ok := v.Int()
	if !ok || a <= 0 || bits.OnesCount64(uint64(a)) != 1 || a > MaxAlignment {
		return 0, fmt.Errorf("general.alignment %s is not a power of two up to %d", v.Format(), MaxAlignment)
	}
	return uint64(a), nil
}

// maxPrealloc bounds the capacity reserved up front for a count read from the
// file. Counts are checked against the bytes that remain, but in a large file
// a count can fit and still be false; beyond this many, room is allocated only
// as elements are actually parsed, so allocation follows the bytes read, not
// the bytes claimed.
const maxPrealloc = 1 << 10

func capHint(n uint64) int { return int(min(n, maxPrealloc)) }

func alignUp(x, a uint64) uint64 {
	return (x + a - 1) / a * a
}

// value decodes one metadata value of type vt.
func (d *decoder) value(vt ValueType, depth int, key string) Value {
	switch vt {
	case TypeUint8:
		return Value{vt, d.u8(key)}
	case TypeInt8:
		return Value{vt, int8(d.u8(key))}
	case TypeUint16:
		return Value{vt, d.u16(key)}
	case TypeInt16:
		return Value{vt, int16(d.u16(key))}
	case TypeUint32:
		return Value{vt, d.u32(key)}
	case TypeInt32:
		return Value{vt, int32(d.u32(key))}
	case TypeFloat32:
		return Value{vt, math.Float32frombits(d.u32(key))}
	case TypeBool:
		b := d.u8(key)
		if b > 1 {
			d.fail("metadata %q: bool value %d", key, b)
		}
		return Value{vt, b == 1}
	case TypeString:
		return Value{vt, d.str(key)}
	case TypeUint64:
		return Value{vt, d.u64(key)}
	case TypeInt64:
		return Value{vt, int64(d.u64(key))}
	case TypeFloat64:
		return Value{vt, math.Float64frombits(d.u64(key))}
	case TypeArray:
		if depth >= maxArrayDepth {
			d.fail("metadata %q: arrays nested deeper than %d", key, maxArrayDepth)
			return Value{}
		}
		return Value{vt, d.array(depth, key)}
	}
	d.fail("metadata %q: unknown value type %d", key, uint32(vt))
	return Value{}
}

func (d *decoder) array(depth int, key string) Array {
	et := ValueType(d.u32(key + " element type"))
	n := d.u64(key + " element count")
	if d.err != nil {
		return Array{}
	}
	// The smallest possible encoding of an element bounds how many can fit.
	minSize := uint64(et.size())
	switch et {
	case TypeString:
		minSize = 8
	case TypeArray:
		minSize = 12
	}
	if minSize == 0 {
		d.fail("metadata %q: unknown array element type %d", key, uint32(et))
		return Array{}
	}
	if n > d.remaining()/minSize {
		d.fail("metadata %q: array of %d %v elements cannot fit in the %d bytes that remain", key, n, et, d.remaining())
		return Array{}
	}
	a := Array{ElemType: et}
	switch et {
	case TypeUint8:
		a.Elems = append([]uint8(nil), d.take(n, key)...)
	case TypeInt8:
		p := d.take(n, key)
		e := make([]int8, n)
		for i := range e {
			e[i] = int8(p[i])
		}
		a.Elems = e
	case TypeUint16, TypeInt16:
		p := d.take(2*n, key)
		if et == TypeUint16 {
			e := make([]uint16, n)
			for i := range e {
				e[i] = binary.LittleEndian.Uint16(p[2*i:])
			}
			a.Elems = e
		} else {
			e := make([]int16, n)
			for i := range e {
				e[i] = int16(binary.LittleEndian.Uint16(p[2*i:]))
			}
			a.Elems = e
		}
	case TypeUint32, TypeInt32, TypeFloat32:
		p := d.take(4*n, key)
		switch et {
		case TypeUint32:
			e := make([]uint32, n)
			for i := range e {
				e[i] = binary.LittleEndian.Uint32(p[4*i:])
			}
			a.Elems = e
		case TypeInt32:
			e := make([]int32, n)
			for i := range e {
				e[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
			}
			a.Elems = e
		default:
			e := make([]float32, n)
			for i := range e {
				e[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
			}
			a.Elems = e
		}
	case TypeUint64, TypeInt64, TypeFloat64:
		p := d.take(8*n, key)
		switch et {
		case TypeUint64:
			e := make([]uint64, n)
			for i := range e {
				e[i] = binary.LittleEndian.Uint64(p[8*i:])
			}
			a.Elems = e
		case TypeInt64:
			e := make([]int64, n)
			for i := range e {
				e[i] = int64(binary.LittleEndian.Uint64(p[8*i:]))
			}
			a.Elems = e
		default:
			e := make([]float64, n)
			for i := range e {
				e[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
			}
			a.Elems = e
		}
	case TypeBool:
		p := d.take(n, key)
		e := make([]bool, n)
		for i := range e {
			if p[i] > 1 {
				d.fail("metadata %q: bool value %d", key, p[i])
			}
			e[i] = p[i] == 1
		}
		a.Elems = e
	case TypeString:
		e := make([]string, 0, capHint(n))
		for i := uint64(0); i < n; i++ {
			s := d.str(key)
			if d.err != nil {
				return Array{}
			}
			e = append(e, s)
		}
		a.Elems = e
	case TypeArray:
		e := make([]Array, 0, capHint(n))
		for i := uint64(0); i < n; i++ {
			v := d.value(TypeArray, depth+1, key)
			if d.err != nil {
				return Array{}
			}
			inner, _ := v.Array()
			e = append(e, inner)
		}
		a.Elems = e
	}
	if d.err != nil {
		return Array{}
	}
	return a
}

func (d *decoder) tensorInfo() Tensor {
	var t Tensor
	t.Name = d.str("tensor name")
	nDims := d.u32("tensor dimension count")
	if d.err != nil {
		return t
	}
	if nDims == 0 || nDims > MaxDims {
		d.fail("tensor %q has %d dimensions (want 1..%d)", t.Name, nDims, MaxDims)
		return t
	}
	t.Dims = make([]uint64, nDims)
	total := uint64(1)
	for i := range t.Dims {
		t.Dims[i] = d.u64("tensor dimension")
		if d.err != nil {
			return t
		}
		if t.Dims[i] == 0 {
			d.fail("tensor %q has a zero dimension", t.Name)
			return t
		}
		hi, lo := bits.Mul64(total, t.Dims[i])
		if hi != 0 || lo > 1<<50 {
			d.fail("tensor %q has an absurd element count (dimensions %v)", t.Name, t.Dims[:i+1])
			return t
		}
		total = lo
	}
	t.Type = kernels.Type(d.u32("tensor type"))
	t.Offset = d.u64("tensor offset")
	return t
}

// placeTensors computes every tensor's byte size, checks that it lies inside
// the data section without overlapping another, and sets its Data view.
func (f *File) placeTensors(b []byte) error {
	if len(f.Tensors) == 0 {
		return nil
	}
	dataLen := uint64(len(b)) - f.DataOffset
	order := make([]int, len(f.Tensors))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return f.Tensors[order[i]].Offset < f.Tensors[order[j]].Offset })
	for k, i := range order {
		t := &f.Tensors[i]
		if !t.Type.Known() {
			return fmt.Errorf("%w: tensor %q has unsupported type %v", ErrFormat, t.Name, t.Type)
		}
		if t.Offset%f.Alignment != 0 {
			return fmt.Errorf("%w: tensor %q offset %d is not aligned to %d", ErrFormat, t.Name, t.Offset, f.Alignment)
		}
		size, err := kernels.TensorBytes(t.Type, t.Dims[0], t.Elems())
		if err != nil {
			return fmt.Errorf("%w: tensor %q: %v", ErrFormat, t.Name, err)
		}
		if t.Offset > dataLen || size > dataLen-t.Offset {
			return fmt.Errorf("%w: tensor %q (%v, %d bytes at data offset %d) extends beyond the end of the file (%d data bytes)",
				ErrFormat, t.Name, t.Type, size, t.Offset, dataLen)
		}
		end := dataLen // where the next tensor starts, or the end of the file
		if k+1 < len(order) {
			next := &f.Tensors[order[k+1]]
			if next.Offset < t.Offset+size {
				return fmt.Errorf("%w: tensors %q and %q overlap", ErrFormat, t.Name, next.Name)
			}
			end = next.Offset
		}
		if t.Type == kernels.I2_S {
			// Type 36 is also a removed mainline type (IQ4_NL_4_4, 18 bytes
			// per 32 elements). An I2_S tensor is followed by at most its
			// alignment padding; a much larger gap means the other type.
			if gap := end - t.Offset; gap >= size+f.Alignment && gap >= t.Elems()/32*18 {
				return fmt.Errorf("%w: tensor %q has type 36 but occupies %d bytes, not the %d of bitnet.cpp's I2_S (mainline ggml's removed IQ4_NL_4_4 is not supported)",
					ErrFormat, t.Name, gap, size)
			}
		}
		start := f.DataOffset + t.Offset
		t.Data = b[start : start+size : start+size]
	}
	return nil
}
