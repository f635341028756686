// Package models holds the small BitNet b1.58 model embedded in the bitnet
// binary, so that the program answers on a fresh machine with nothing
// downloaded, and its model card.
//
// The model is trained by `bitnet train` on TinyStories (MODEL_CARD.md gives
// the data, the exact command and its measurements). A build whose embedding
// file sets no model makes Default report none, and bitnet then asks for one
// with -m or `bitnet pull`.
package models

// Default returns the embedded default model as the bytes of a GGUF file and
// its display name. ok is false when the binary carries no model. The bytes
// are read-only: they live in the binary's data and must not be modified.
func Default() (data []byte, name string, ok bool) {
	if len(embedded) == 0 {
		return nil, "", false
	}
	return embedded, embeddedName, true
}

// embedded and embeddedName are set by the file that embeds the model with
// go:embed; they stay empty until the trained model ships.
var (
	embedded     []byte
	embeddedName string
)
