package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"

	"github.com/bitnet-go/bitnet/kernels"
)

// TensorData is one tensor to write: its encoded little-endian bytes and how
// to read them.
type TensorData struct {
	Name  string
	DType DType
	// Shape lists the dimensions outermost first (row-major).
	Shape []uint64
	Data  []byte
}

// headerAlign is the alignment of the data section: the header is padded with
// spaces so that 8+len(header) is a multiple of it, as the Python library does.
const headerAlign = 8

// Write writes a safetensors file holding tensors, in the order given, and
// the metadata strings (which may be nil).
func Write(w io.Writer, tensors []TensorData, metadata map[string]string) error {
	header, err := buildHeader(tensors, metadata)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	bw.Write(n[:])
	bw.Write(header)
	for _, t := range tensors {
		bw.Write(t.Data)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write safetensors: %w", err)
	}
	return nil
}

// buildHeader checks the tensors and returns the padded JSON header.
func buildHeader(tensors []TensorData, metadata map[string]string) ([]byte, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		md, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return nil, fmt.Errorf("write safetensors: metadata: %w", err)
		}
		h.WriteString(strconv.Quote(MetadataKey))
		h.WriteByte(':')
		h.Write(md)
	}
	names := map[string]bool{}
	var offset uint64
	for i, t := range tensors {
		if err := checkTensorData(t, names); err != nil {
			return nil, fmt.Errorf("write safetensors: %w", err)
		}
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		h.Write(name)
		fmt.Fprintf(&h, `:{"dtype":%q,"shape":[`, t.DType)
		for j, d := range t.Shape {
			if j > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.FormatUint(d, 10))
		}
		end := offset + uint64(len(t.Data))
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, offset, end)
		offset = end
	}
	h.WriteByte('}')
	for (8+h.Len())%headerAlign != 0 {
		h.WriteByte(' ')
	}
	return h.Bytes(), nil
}

func checkTensorData(t TensorData, names map[string]bool) error {
	if t.Name == MetadataKey {
		return fmt.Errorf("tensor name %q is reserved", t.Name)
	}
	if names[t.Name] {
		return fmt.Errorf("tensor %q given twice", t.Name)
	}
	names[t.Name] = true
	size := t.DType.Size()
	if size == 0 {
		return fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
	}
	elems := uint64(1)
	for _, d := range t.Shape {
		hi, lo := bits.Mul64(elems, d)
		if hi != 0 {
			return fmt.Errorf("tensor %q: shape %v overflows", t.Name, t.Shape)
		}
		elems = lo
	}
	if hi, n := bits.Mul64(elems, size); hi != 0 || n != uint64(len(t.Data)) {
		return fmt.Errorf("tensor %q: shape %v of %s needs %d elements × %d bytes, data has %d bytes", t.Name, t.Shape, t.DType, elems, size, len(t.Data))
	}
	return nil
}

// WriteFile writes a safetensors file at path. It writes a temporary file in
// the same directory and renames it into place, so path never holds a
// partial file.
func WriteFile(path string, tensors []TensorData, metadata map[string]string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := Write(tmp, tensors, metadata); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ShardFileName returns the Hugging Face name of shard i (counting from 0)
// of n: model-00001-of-00003.safetensors.
func ShardFileName(i, n int) string {
	return fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, n)
}

// WriteSharded writes a sharded model into dir: shard i holds shards[i] and is
// named ShardFileName(i, len(shards)), each carries metadata, and
// model.safetensors.index.json maps every tensor to its shard and records the
// total data size, as Hugging Face's save_pretrained does.
func WriteSharded(dir string, shards [][]TensorData, metadata map[string]string) error {
	weightMap := map[string]string{}
	var total uint64
	for i, shard := range shards {
		name := ShardFileName(i, len(shards))
		for _, t := range shard {
			if prev, dup := weightMap[t.Name]; dup {
				return fmt.Errorf("write sharded model: tensor %q is in both %s and %s", t.Name, prev, name)
			}
			weightMap[t.Name] = name
			total += uint64(len(t.Data))
		}
		if err := WriteFile(filepath.Join(dir, name), shard, metadata); err != nil {
			return err
		}
	}
	index := struct {
		Metadata  map[string]uint64 `json:"metadata"`
		WeightMap map[string]string `json:"weight_map"`
	}{map[string]uint64{"total_size": total}, weightMap}
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return fmt.Errorf("write sharded model: %w", err)
	}
	path := filepath.Join(dir, IndexFileName)
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// EncodeF32 returns values as little-endian F32 bytes.
func EncodeF32(values []float32) []byte {
	b := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

// EncodeF16 returns values rounded to F16 as little-endian bytes.
func EncodeF16(values []float32) []byte {
	b := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(b[2*i:], kernels.F32ToF16(v))
	}
	return b
}

// EncodeBF16 returns values rounded to BF16 as little-endian bytes.
func EncodeBF16(values []float32) []byte {
	b := make([]byte, 2*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint16(b[2*i:], kernels.F32ToBF16(v))
	}
	return b
}

// EncodeI8 returns int8 values as bytes.
func EncodeI8(values []int8) []byte {
	b := make([]byte, len(values))
	for i, v := range values {
		b[i] = byte(v)
	}
	return b
}
