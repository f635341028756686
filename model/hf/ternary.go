package hf

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/bitnet-go/bitnet/kernels"
	"github.com/bitnet-go/bitnet/model/safetensors"
)

// This file turns Hugging Face projection weights into ternary values and
// encodes them once, at load time, in a kernels ternary type. Neither path
// expands a matrix to float: rows are produced and encoded one at a time.

// minGamma is the clamp of the absmean scale (DESIGN.md §4).
const minGamma = 1e-5

// tritRows yields a matrix's ternary values one output row at a time.
type tritRows interface {
	// row writes the values of output row r, each in {-1, 0, +1}.
	row(r int, dst []int8) error
}

// packedRows reads transformers' packed layout (DESIGN.md §6): a uint8
// tensor of shape (rows/4, cols) where the value of row r + k*(rows/4) is
// ((packed[r] >> 2k) & 3) - 1.
type packedRows struct {
	t          *safetensors.Tensor
	rows, cols int
}

func (p packedRows) row(r int, dst []int8) error {
	quarter := p.rows / 4
	shift := 2 * uint(r/quarter)
	src := p.t.Data[(r%quarter)*p.cols : (r%quarter+1)*p.cols]
	for c, b := range src {
		code := (b >> shift) & 3
		if code == 3 {
			return fmt.Errorf("byte %d holds the packed code 3, which is not a ternary value", (r%quarter)*p.cols+c)
		}
		dst[c] = int8(code) - 1
	}
	return nil
}

// latentRows quantises float master weights with absmean: gamma = mean|W|
// (clamped to >= 1e-5), W_t = clamp(round(W / gamma), -1, 1), rounding
// halves to even as torch.round does.
type latentRows struct {
	t     *safetensors.Tensor
	cols  int
	gamma float32
	buf   []float32
}

// newLatentRows measures the tensor's absmean. It rejects non-finite values,
// which would make every weight zero or undefined.
func newLatentRows(t *safetensors.Tensor, rows, cols int) (*latentRows, error) {
	l := &latentRows{t: t, cols: cols, buf: make([]float32, cols)}
	var sum float64
	for r := 0; r < rows; r++ {
		if err := l.decode(r); err != nil {
			return nil, err
		}
		for _, v := range l.buf {
			a := math.Abs(float64(v))
			if math.IsInf(a, 0) || math.IsNaN(a) {
				return nil, fmt.Errorf("row %d holds a non-finite value %v", r, v)
			}
			sum += a
		}
	}
	l.gamma = float32(max(sum/float64(rows*cols), minGamma))
	return l, nil
}

// decode reads row r of the float tensor into buf.
func (l *latentRows) decode(r int) error {
	size := int(l.t.DType.Size())
	view := safetensors.Tensor{
		Name: l.t.Name, DType: l.t.DType, Shape: []uint64{uint64(l.cols)},
		Data: l.t.Data[r*l.cols*size : (r+1)*l.cols*size], Source: l.t.Source,
	}
	return view.DecodeFloat32(l.buf)
}

func (l *latentRows) row(r int, dst []int8) error {
	if err := l.decode(r); err != nil {
		return err
	}
	// round(v/gamma) clamped to [-1, 1] is the sign of v when |v| > gamma/2
	// and 0 otherwise (a half rounds to even, which is 0).
	// Written without branches, which random weights would mispredict.
	half := float64(l.gamma) / 2
	for c, v := range l.buf {
		var pos, neg int8
		if float64(v) > half {
			pos = 1
		}
		if float64(v) < -half {
			neg = 1
		}
		dst[c] = pos - neg
	}
	return nil
}

// encodeTernary encodes a rows x cols matrix of ternary values times gamma
// as typ: I2_S (codes plus one f32 scale) or TQ2_0/TQ1_0 (an fp16 scale per
// block of 256, gamma for every block holding a non-zero value and 0 for
// the others). The bytes are those kernels.Encode writes for the values
// ternary × gamma, produced from the ternary values directly.
func encodeTernary(typ kernels.Type, src tritRows, rows, cols int, gamma float32) ([]byte, error) {
	if g := float64(gamma); !(g > 0) || math.IsInf(g, 0) {
		return nil, fmt.Errorf("scale %v is not a positive finite number", gamma)
	}
	if !typ.Ternary() {
		return nil, fmt.Errorf("%v is not a ternary type", typ)
	}
	rowBytes, err := typ.RowBytes(cols)
	if err != nil {
		return nil, err
	}
	size, err := kernels.EncodedSize(typ, rows, cols)
	if err != nil {
		return nil, err
	}
	d := kernels.F32ToF16(gamma)
	if h := kernels.F16ToF32(d); typ != kernels.I2_S && (h == 0 || math.IsInf(float64(h), 0)) {
		return nil, fmt.Errorf("scale %g cannot be stored as the fp16 block scale of %v", gamma, typ)
	}
	out := make([]byte, size)
	trits := make([]int8, cols)
	for r := 0; r < rows; r++ {
		if err := src.row(r, trits); err != nil {
			return nil, err
		}
		dst := out[r*rowBytes : (r+1)*rowBytes]
		switch typ {
		case kernels.I2_S:
			packI2SRow(dst, trits)
		case kernels.TQ2_0:
			packTQ2Row(dst, trits, d)
		case kernels.TQ1_0:
			packTQ1Row(dst, trits, d)
		}
	}
	if typ == kernels.I2_S {
		binary.LittleEndian.PutUint32(out[rows*rowBytes:], math.Float32bits(gamma))
	}
	return out, nil
}

// packI2SRow stores a row of ternary values as I2_S codes (value + 1): in
// each block of 128, element j sits in byte j%32 at shift 6 - 2*(j/32).
func packI2SRow(dst []byte, trits []int8) {
	for b := 0; b < len(trits)/kernels.I2SBlock; b++ {
		t := trits[b*kernels.I2SBlock:]
		o := dst[b*32 : b*32+32]
		for m := range o {
			o[m] = byte(t[m]+1)<<6 | byte(t[32+m]+1)<<4 | byte(t[64+m]+1)<<2 | byte(t[96+m]+1)
		}
	}
}

// packTQ2Row stores a row as TQ2_0 blocks (DESIGN.md §5): element
// j*128 + l*32 + m in bits 2l of qs[j*32+m], then the fp16 scale, which
// llama.cpp's quantiser sets to the block's absmax (0 for an all-zero block).
func packTQ2Row(dst []byte, trits []int8, d uint16) {
	for b := 0; b < len(trits)/kernels.QK_K; b++ {
		t := trits[b*kernels.QK_K:]
		blk := dst[b*66 : (b+1)*66]
		for j := 0; j < 2; j++ {
			for m := 0; m < 32; m++ {
				x := t[j*128+m:]
				blk[j*32+m] = byte(x[0]+1) | byte(x[32]+1)<<2 | byte(x[64]+1)<<4 | byte(x[96]+1)<<6
			}
		}
		binary.LittleEndian.PutUint16(blk[64:], blockScale(t[:kernels.QK_K], d))
	}
}

// packTQ1Row stores a row as TQ1_0 blocks (DESIGN.md §5): five base-3 digits
// (value + 1, first most significant) per byte as ceil(v*256/243), for
// elements m+32n, then 160+m+16n, then 240+j+4n (four digits).
func packTQ1Row(dst []byte, trits []int8, d uint16) {
	digits := func(t []int8, stride, n int) byte {
		var q uint16
		for i := 0; i < 5; i++ {
			q *= 3
			if i < n {
				q += uint16(t[i*stride] + 1)
			}
		}
		return byte((q*256 + 242) / 243)
	}
	for b := 0; b < len(trits)/kernels.QK_K; b++ {
		t := trits[b*kernels.QK_K : (b+1)*kernels.QK_K]
		blk := dst[b*54 : (b+1)*54]
		for m := 0; m < 32; m++ {
			blk[m] = digits(t[m:], 32, 5)
		}
		for m := 0; m < 16; m++ {
			blk[32+m] = digits(t[160+m:], 16, 5)
		}
		for j := 0; j < 4; j++ {
			blk[48+j] = digits(t[240+j:], 4, 4)
		}
		binary.LittleEndian.PutUint16(blk[52:], blockScale(t, d))
	}
}

// blockScale is d for a block holding a non-zero value, 0 otherwise.
func blockScale(t []int8, d uint16) uint16 {
	for _, v := range t {
		if v != 0 {
			return d
		}
	}
	return 0
}

// packedGamma reads a packed projection's weight_scale and returns the
// per-tensor scale of its ternary values under the convention.
func packedGamma(s *safetensors.Tensor, conv ScaleConvention) (float32, error) {
	if !s.DType.IsFloat() || s.Elems() != 1 || len(s.Shape) > 1 {
		return 0, fmt.Errorf("%s has dtype %s and shape %v, want one float value", where(s), s.DType, s.Shape)
	}
	v, err := s.Float32s()
	if err != nil {
		return 0, err
	}
	ws := v[0]
	if !(ws > 0) || math.IsInf(float64(ws), 0) {
		return 0, fmt.Errorf("%s is %v, want a positive finite scale", where(s), ws)
	}
	gamma := ws
	if conv == ScaleDivides {
		gamma = 1 / ws
	}
	if !(gamma > 0) || math.IsInf(float64(gamma), 0) {
		return 0, fmt.Errorf("%s = %v gives the weight scale %v (weight_scale %s)", where(s), ws, gamma, conv)
	}
	return gamma, nil
}

// where names a tensor and its file for error messages.
func where(t *safetensors.Tensor) string {
	if t.Source == "" {
		return fmt.Sprintf("tensor %s", t.Name)
	}
	return fmt.Sprintf("tensor %s (in %s)", t.Name, t.Source)
}
