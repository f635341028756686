package safetensors

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics or over-allocates on arbitrary
// input, and that whatever it accepts is self-consistent: every view lies in
// the data section with the size its dtype and shape imply, typed reads of
// readable dtypes succeed, and writing the tensors back yields a file that
// parses to the same tensors.
func FuzzParse(f *testing.F) {
	tensors, _ := sampleTensors()
	var buf bytes.Buffer
	Write(&buf, tensors, map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	f.Add(rawFile(`{}`, nil))
	f.Add(rawFile(`{"__metadata__":{"a":"b"}}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, make([]byte, 8)))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))

	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Parse(b)
		if err != nil {
			return
		}
		dataLen := uint64(len(b)) - 8 - file.HeaderSize
		var written []TensorData
		for i := range file.Tensors {
			tn := &file.Tensors[i]
			if tn.Offset+uint64(len(tn.Data)) > dataLen {
				t.Fatalf("%s: view %d+%d beyond %d data bytes", tn.Name, tn.Offset, len(tn.Data), dataLen)
			}
			if tn.Elems()*tn.DType.Size() != uint64(len(tn.Data)) {
				t.Fatalf("%s: %d bytes for %v of %s", tn.Name, len(tn.Data), tn.Shape, tn.DType)
			}
			if got, ok := file.Tensor(tn.Name); !ok || got != tn {
				t.Fatalf("%s: not found by name", tn.Name)
			}
			if tn.DType.IsFloat() {
				if _, err := tn.Float32s(); err != nil {
					t.Fatalf("%s: %v", tn.Name, err)
				}
			}
			written = append(written, TensorData{Name: tn.Name, DType: tn.DType, Shape: tn.Shape, Data: tn.Data})
		}
		var out bytes.Buffer
		if err := Write(&out, written, file.Metadata); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		again, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if len(again.Tensors) != len(file.Tensors) || (len(file.Metadata) > 0 && !reflect.DeepEqual(again.Metadata, file.Metadata)) {
			t.Fatalf("rewrite changed the file: %d vs %d tensors", len(again.Tensors), len(file.Tensors))
		}
		for _, w := range written {
			g, ok := again.Tensor(w.Name)
			if !ok || g.DType != w.DType || !reflect.DeepEqual(g.Shape, w.Shape) || !bytes.Equal(g.Data, w.Data) {
				t.Fatalf("rewrite changed tensor %q", w.Name)
			}
		}
	})
}
