package safetensors

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestOpenMapsFileAndNamesSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SingleFileName)
	tensors, _ := sampleTensors()
	if err := WriteFile(path, tensors, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Path != path || f.Metadata["format"] != "pt" {
		t.Errorf("Path %q, metadata %v", f.Path, f.Metadata)
	}
	for _, in := range tensors {
		got, ok := f.Tensor(in.Name)
		if !ok || !bytes.Equal(got.Data, in.Data) || got.Source != path {
			t.Errorf("%s: ok=%v source=%q", in.Name, ok, got.Source)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("WriteFile left %d entries in the directory, want just the file", len(entries))
	}
}

func TestOpenErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.safetensors")
	os.WriteFile(path, rawFile(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 4)), 0o644)
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, ErrFormat) {
		t.Errorf("Open of a truncated file: %v", err)
	}
}

// shardedFixture writes three shards of sampleTensors and returns the
// directory and the tensors by name.
func shardedFixture(t *testing.T) (string, map[string]TensorData) {
	t.Helper()
	dir := t.TempDir()
	tensors, _ := sampleTensors()
	shards := [][]TensorData{tensors[:2], tensors[2:5], tensors[5:]}
	if err := WriteSharded(dir, shards, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	byName := map[string]TensorData{}
	for _, tn := range tensors {
		byName[tn.Name] = tn
	}
	return dir, byName
}

func TestOpenDirSharded(t *testing.T) {
	dir, want := shardedFixture(t)
	m, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Shards) != 3 || m.IndexPath != filepath.Join(dir, IndexFileName) {
		t.Fatalf("%d shards, index %q", len(m.Shards), m.IndexPath)
	}
	if len(m.Names()) != len(want) {
		t.Errorf("names %v", m.Names())
	}
	for name, in := range want {
		got, ok := m.Tensor(name)
		if !ok || !bytes.Equal(got.Data, in.Data) || !reflect.DeepEqual(got.Shape, in.Shape) {
			t.Errorf("%s: ok=%v", name, ok)
			continue
		}
		if !strings.HasPrefix(filepath.Base(got.Source), "model-0000") || !strings.HasSuffix(got.Source, "-of-00003.safetensors") {
			t.Errorf("%s source %q", name, got.Source)
		}
	}
	if got, _ := m.Tensor("i8"); filepath.Base(got.Source) != ShardFileName(1, 3) {
		t.Errorf("i8 in %s, want %s", got.Source, ShardFileName(1, 3))
	}
	if m.Metadata()["format"] != "pt" {
		t.Errorf("metadata %v", m.Metadata())
	}
	// The same model through OpenModel, by directory and by index path.
	for _, p := range []string{dir, filepath.Join(dir, IndexFileName)} {
		m2, err := OpenModel(p)
		if err != nil {
			t.Fatalf("OpenModel(%s): %v", p, err)
		}
		if len(m2.Names()) != len(want) {
			t.Errorf("OpenModel(%s): %d tensors", p, len(m2.Names()))
		}
		m2.Close()
	}
}

func TestOpenDirSingleAndLoose(t *testing.T) {
	tensors, _ := sampleTensors()
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, SingleFileName), tensors, nil); err != nil {
		t.Fatal(err)
	}
	m, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Shards) != 1 || m.IndexPath != "" || len(m.Names()) != len(tensors) {
		t.Errorf("single: %d shards, index %q, %d names", len(m.Shards), m.IndexPath, len(m.Names()))
	}
	m.Close()

	// No standard name: every .safetensors file joins the namespace.
	loose := t.TempDir()
	WriteFile(filepath.Join(loose, "a.safetensors"), tensors[:3], nil)
	WriteFile(filepath.Join(loose, "b.safetensors"), tensors[3:], nil)
	m, err = OpenDir(loose)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Shards) != 2 || len(m.Names()) != len(tensors) {
		t.Errorf("loose: %d shards, %d names", len(m.Shards), len(m.Names()))
	}
	m.Close()

	// A single file through OpenModel.
	m, err = OpenModel(filepath.Join(loose, "b.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Names()) != len(tensors)-3 {
		t.Errorf("file: %d names", len(m.Names()))
	}
	m.Close()

	if _, err := OpenDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), IndexFileName) {
		t.Errorf("empty directory: %v", err)
	}
}

func TestOpenDirRejectsBadIndexes(t *testing.T) {
	cases := []struct {
		name   string
		modify func(dir string)
		want   string
	}{
		{"tensor not in its shard", func(dir string) {
			writeIndex(dir, `{"weight_map":{"f32":"`+ShardFileName(0, 3)+`","ghost":"`+ShardFileName(0, 3)+`"}}`)
		}, `"ghost"`},
		{"tensor in another shard", func(dir string) {
			writeIndex(dir, `{"weight_map":{"f16":"`+ShardFileName(0, 3)+`","f32":"`+ShardFileName(1, 3)+`"}}`)
		}, "found in"},
		{"missing shard", func(dir string) { os.Remove(filepath.Join(dir, ShardFileName(2, 3))) }, ShardFileName(2, 3)},
		{"path traversal", func(dir string) { writeIndex(dir, `{"weight_map":{"f32":"../model.safetensors"}}`) }, "not a file name"},
		{"empty map", func(dir string) { writeIndex(dir, `{"weight_map":{}}`) }, "no weight_map"},
		{"not json", func(dir string) { writeIndex(dir, `{"weight_map":`) }, "index"},
		{"duplicate across shards", func(dir string) {
			tensors, _ := sampleTensors()
			WriteFile(filepath.Join(dir, ShardFileName(2, 3)), tensors[:1], nil)
		}, "in both"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := shardedFixture(t)
			c.modify(dir)
			m, err := OpenDir(dir)
			if err == nil {
				m.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func writeIndex(dir, body string) {
	os.WriteFile(filepath.Join(dir, IndexFileName), []byte(body), 0o644)
}

func TestWriteRejectsInconsistentTensors(t *testing.T) {
	cases := []struct {
		name    string
		tensors []TensorData
		want    string
	}{
		{"short data", []TensorData{{Name: "a", DType: F32, Shape: []uint64{2}, Data: make([]byte, 7)}}, "data has 7 bytes"},
		{"duplicate", []TensorData{{Name: "a", DType: U8, Shape: []uint64{1}, Data: []byte{1}}, {Name: "a", DType: U8, Shape: []uint64{1}, Data: []byte{1}}}, "twice"},
		{"reserved name", []TensorData{{Name: MetadataKey, DType: U8, Shape: []uint64{0}}}, "reserved"},
		{"unknown dtype", []TensorData{{Name: "a", DType: "Q4_0", Shape: []uint64{0}}}, "unknown dtype"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		err := Write(&buf, c.tensors, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written before the error", c.name, buf.Len())
		}
	}
}

func TestWriteShardedRejectsDuplicateAcrossShards(t *testing.T) {
	a := TensorData{Name: "a", DType: U8, Shape: []uint64{1}, Data: []byte{1}}
	if err := WriteSharded(t.TempDir(), [][]TensorData{{a}, {a}}, nil); err == nil || !strings.Contains(err.Error(), "in both") {
		t.Errorf("duplicate across shards: %v", err)
	}
}
