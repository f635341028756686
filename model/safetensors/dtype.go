package safetensors

// DType is a safetensors element type, spelled as in the header ("F32", "BF16").
type DType string

// The element types bitnet reads as typed data.
const (
	F32  DType = "F32"  // IEEE-754 binary32
	F16  DType = "F16"  // IEEE-754 binary16
	BF16 DType = "BF16" // bfloat16
	U8   DType = "U8"   // unsigned byte (packed ternary weights)
	I8   DType = "I8"   // signed byte
)

// dtypeSizes lists every fixed-width dtype of the safetensors format with its
// size in bytes. Files using any of them parse, so their tensors can be listed;
// only the dtypes above can be read as typed data.
var dtypeSizes = map[DType]uint64{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8, "C64": 8,
}

// Size returns the size of one element in bytes, or 0 for a dtype this
// package does not know.
func (d DType) Size() uint64 { return dtypeSizes[d] }

// Supported reports whether tensors of this dtype can be read as typed data
// (F32, F16, BF16, U8, I8).
func (d DType) Supported() bool {
	switch d {
	case F32, F16, BF16, U8, I8:
		return true
	}
	return false
}

// IsFloat reports whether the dtype can be decoded to float32 (F32, F16, BF16).
func (d DType) IsFloat() bool { return d == F32 || d == F16 || d == BF16 }
