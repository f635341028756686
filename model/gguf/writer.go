package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/bitnet-go/bitnet/kernels"
)

// Writer assembles a GGUF v3 file: metadata in the order added, then tensor
// infos and the aligned tensor data in the order added.
type Writer struct {
	alignment uint64
	kvs       []KV
	keys      map[string]bool
	tensors   []pendingTensor
	names     map[string]bool
	err       error
}

type pendingTensor struct {
	info  Tensor
	size  uint64
	write func(io.Writer) error
}

// NewWriter returns an empty writer using DefaultAlignment.
func NewWriter() *Writer {
	return &Writer{alignment: DefaultAlignment, keys: map[string]bool{}, names: map[string]bool{}}
}

// SetAlignment sets the data alignment, a power of two up to MaxAlignment,
// and records it as general.alignment (u32). Adding that key with AddKV has
// the same effect.
func (w *Writer) SetAlignment(a uint32) {
	w.AddKV("general.alignment", a)
}

func (w *Writer) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

// AddKV adds a metadata entry. v is any Go value NewValue accepts. Adding a
// key twice replaces the earlier value. The key general.alignment also sets
// the alignment the tensors are written with.
func (w *Writer) AddKV(key string, v any) {
	val, err := NewValue(v)
	if err != nil {
		w.setErr(fmt.Errorf("gguf: key %q: %w", key, err))
		return
	}
	if key == "general.alignment" {
		a, err := alignmentValue(val)
		if err != nil {
			w.setErr(fmt.Errorf("gguf: %w", err))
			return
		}
		w.alignment = a
	}
	if w.keys[key] {
		for i := range w.kvs {
			if w.kvs[i].Key == key {
				w.kvs[i].Value = val
			}
		}
		return
	}
	w.keys[key] = true
	w.kvs = append(w.kvs, KV{key, val})
}

// AddTensor adds a tensor whose encoded bytes are data. dims lists the
// contiguous dimension first.
func (w *Writer) AddTensor(name string, typ kernels.Type, dims []uint64, data []byte) {
	w.AddTensorFunc(name, typ, dims, func(out io.Writer) error {
		_, err := out.Write(data)
		return err
	})
}

// AddTensorFunc adds a tensor whose bytes are produced by write when the file
// is written, so large tensors need not be held in memory. write must produce
// exactly the tensor's encoded size.
func (w *Writer) AddTensorFunc(name string, typ kernels.Type, dims []uint64, write func(io.Writer) error) {
	if w.names[name] {
		w.setErr(fmt.Errorf("gguf: duplicate tensor %q", name))
		return
	}
	if len(dims) == 0 || len(dims) > MaxDims {
		w.setErr(fmt.Errorf("gguf: tensor %q has %d dimensions", name, len(dims)))
		return
	}
	t := Tensor{Name: name, Type: typ, Dims: append([]uint64(nil), dims...)}
	size, err := kernels.TensorBytes(typ, dims[0], t.Elems())
	if err != nil {
		w.setErr(fmt.Errorf("gguf: tensor %q: %w", name, err))
		return
	}
	w.names[name] = true
	w.tensors = append(w.tensors, pendingTensor{info: t, size: size, write: write})
}

// WriteTo writes the whole file to out.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	cw := &countingWriter{w: bufio.NewWriterSize(out, 1<<20)}
	e := encoder{w: cw}
	e.raw([]byte(Magic))
	e.u32(3)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.Type))
		e.value(kv.Value)
	}
	offset := uint64(0)
	for i := range w.tensors {
		t := &w.tensors[i]
		t.info.Offset = offset
		e.str(t.info.Name)
		e.u32(uint32(len(t.info.Dims)))
		for _, d := range t.info.Dims {
			e.u64(d)
		}
		e.u32(uint32(t.info.Type))
		e.u64(offset)
		offset = alignUp(offset+t.size, w.alignment)
	}
	e.pad(w.alignment)
	dataStart := cw.n
	for _, t := range w.tensors {
		if e.err != nil {
			break
		}
		before := cw.n
		if err := t.write(cw); err != nil {
			return cw.n, fmt.Errorf("gguf: write tensor %q: %w", t.info.Name, err)
		}
		if got := uint64(cw.n - before); got != t.size {
			return cw.n, fmt.Errorf("gguf: tensor %q wrote %d bytes, want %d", t.info.Name, got, t.size)
		}
		if uint64(cw.n-dataStart) != t.info.Offset+t.size {
			return cw.n, fmt.Errorf("gguf: internal offset mismatch at tensor %q", t.info.Name)
		}
		e.pad(w.alignment)
	}
	if e.err != nil {
		return cw.n, e.err
	}
	return cw.n, cw.w.(*bufio.Writer).Flush()
}

// WriteFile writes the file to path atomically: to a temporary file in the
// same directory that is renamed over path once complete.
func (w *Writer) WriteFile(path string) error {
	return WriteFileAtomic(path, func(out io.Writer) error {
		_, err := w.WriteTo(out)
		return err
	})
}

// WriteFileAtomic writes path through a temporary file in the same directory,
// synced and renamed into place, so readers never see a partial file.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	// CreateTemp makes the file private; give it the usual mode of a new file.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type encoder struct {
	w   *countingWriter
	err error
	buf [8]byte
}

func (e *encoder) raw(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}

func (e *encoder) u8(v uint8)   { e.buf[0] = v; e.raw(e.buf[:1]) }
func (e *encoder) u16(v uint16) { binary.LittleEndian.PutUint16(e.buf[:], v); e.raw(e.buf[:2]) }
func (e *encoder) u32(v uint32) { binary.LittleEndian.PutUint32(e.buf[:], v); e.raw(e.buf[:4]) }
func (e *encoder) u64(v uint64) { binary.LittleEndian.PutUint64(e.buf[:], v); e.raw(e.buf[:8]) }
func (e *encoder) str(s string) { e.u64(uint64(len(s))); e.raw([]byte(s)) }

func (e *encoder) pad(a uint64) {
	n := alignUp(uint64(e.w.n), a) - uint64(e.w.n)
	var zero [64]byte
	for n > 0 {
		k := min(n, uint64(len(zero)))
		e.raw(zero[:k])
		n -= k
	}
}

func (e *encoder) value(v Value) {
	switch x := v.v.(type) {
	case uint8:
		e.u8(x)
	case int8:
		e.u8(uint8(x))
	case uint16:
		e.u16(x)
	case int16:
		e.u16(uint16(x))
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		if x {
			e.u8(1)
		} else {
			e.u8(0)
		}
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	case Array:
		e.u32(uint32(x.ElemType))
		n := x.Len()
		e.u64(uint64(n))
		for i := 0; i < n; i++ {
			e.value(x.elem(i))
		}
	default:
		if e.err == nil {
			e.err = fmt.Errorf("gguf: cannot encode %T", x)
		}
	}
}
