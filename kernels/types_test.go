package kernels

import (
	"math"
	"testing"
)

func TestTypeTable(t *testing.T) {
	cases := []struct {
		typ          Type
		id           uint32
		name         string
		elems, bytes int
		ternary      bool
	}{
		{F32, 0, "F32", 1, 4, false},
		{F16, 1, "F16", 1, 2, false},
		{Q8_0, 8, "Q8_0", 32, 34, false},
		{Q6_K, 14, "Q6_K", 256, 210, false},
		{BF16, 30, "BF16", 1, 2, false},
		{TQ1_0, 34, "TQ1_0", 256, 54, true},
		{TQ2_0, 35, "TQ2_0", 256, 66, true},
		{I2_S, 36, "I2_S", 128, 32, true},
	}
	if len(SupportedTypes()) != len(cases) {
		t.Errorf("SupportedTypes() = %v, want %d types", SupportedTypes(), len(cases))
	}
	for i, c := range cases {
		if uint32(c.typ) != c.id || !c.typ.Known() || c.typ.String() != c.name ||
			c.typ.BlockElems() != c.elems || c.typ.BlockBytes() != c.bytes || c.typ.Ternary() != c.ternary {
			t.Errorf("%v: id %d, known %v, elems %d, bytes %d, ternary %v; want %+v", c.typ, uint32(c.typ),
				c.typ.Known(), c.typ.BlockElems(), c.typ.BlockBytes(), c.typ.Ternary(), c)
		}
		if i < len(SupportedTypes()) && SupportedTypes()[i] != c.typ {
			t.Errorf("SupportedTypes()[%d] = %v, want %v (id order)", i, SupportedTypes()[i], c.typ)
		}
	}
	for _, unknown := range []Type{2, 12, 33, 37, math.MaxUint32} {
		if unknown.Known() || unknown.BlockElems() != 0 || unknown.String() == "" {
			t.Errorf("type %d: known %v, block %d, name %q", uint32(unknown), unknown.Known(), unknown.BlockElems(), unknown.String())
		}
		if _, err := unknown.RowBytes(256); err == nil {
			t.Errorf("RowBytes of unknown type %d succeeded", uint32(unknown))
		}
		if _, err := TensorBytes(unknown, 256, 256); err == nil {
			t.Errorf("TensorBytes of unknown type %d succeeded", uint32(unknown))
		}
	}
}

func TestRowAndTensorBytes(t *testing.T) {
	rowCases := []struct {
		typ  Type
		n    int
		want int // -1: error
	}{
		{F32, 7, 28}, {F16, 7, 14}, {BF16, 0, 0},
		{Q8_0, 64, 68}, {Q8_0, 48, -1},
		{Q6_K, 512, 420}, {Q6_K, 128, -1},
		{TQ1_0, 2560, 540}, {TQ2_0, 2560, 660}, {TQ2_0, 2561, -1},
		{I2_S, 2560, 640}, {I2_S, 64, -1},
		{F32, -1, -1},
	}
	for _, c := range rowCases {
		got, err := c.typ.RowBytes(c.n)
		if c.want < 0 {
			if err == nil {
				t.Errorf("%v.RowBytes(%d) = %d, want an error", c.typ, c.n, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v.RowBytes(%d) = %d, %v; want %d", c.typ, c.n, got, err, c.want)
		}
	}

	tensorCases := []struct {
		typ       Type
		rowLen, n uint64
		want      uint64
		wantErr   bool
	}{
		{F32, 3, 12, 48, false},
		{I2_S, 2560, 2560 * 6912, 2560*6912/4 + 32, false}, // codes + scale + padding
		{I2_S, 128, 128, 64, false},
		{TQ2_0, 2560, 2560 * 2560, 2560 * 10 * 66, false},
		{Q8_0, 33, 66, 0, true},
		{Q8_0, 32, math.MaxUint64 &^ 31, 0, true}, // byte size overflows uint64
		{F32, 1, 1 << 62, 0, true},
	}
	for _, c := range tensorCases {
		got, err := TensorBytes(c.typ, c.rowLen, c.n)
		if c.wantErr {
			if err == nil {
				t.Errorf("TensorBytes(%v, %d, %d) = %d, want an error", c.typ, c.rowLen, c.n, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("TensorBytes(%v, %d, %d) = %d, %v; want %d", c.typ, c.rowLen, c.n, got, err, c.want)
		}
	}
}
