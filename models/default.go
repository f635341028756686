package models

import _ "embed"

// DefaultFile is the file name of the embedded model in this directory.
const DefaultFile = "bitnet-tinystories-5m.gguf"

// defaultModel is the 5M-parameter BitNet b1.58 model trained by `bitnet
// train` on TinyStories (see MODEL_CARD.md).
//
//go:embed bitnet-tinystories-5m.gguf
var defaultModel []byte

func init() {
	embedded, embeddedName = defaultModel, "bitnet-tinystories-5m"
}
