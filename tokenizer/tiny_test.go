package tokenizer

import (
	"bytes"
	"fmt"
	"sort"
	"testing"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// ggufTokenizer writes kv (in key order) into a tensor-less GGUF and loads
// its tokenizer.
func ggufTokenizer(t testing.TB, kv map[string]any) (*Tokenizer, error) {
	t.Helper()
	w := gguf.NewWriter()
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.AddKV(k, kv[k])
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return FromGGUF(f)
}

// tinyByteLevelKV is a small byte-level BPE vocabulary: the 256 bytes (id =
// byte value), a few merges, a control and a user-defined token.
func tinyByteLevelKV() map[string]any {
	tokens := make([]string, 0, 270)
	for b := 0; b < 256; b++ {
		tokens = append(tokens, byteToUTF8[b])
	}
	merges := []string{"Ġ t", "h e", "Ġt he", "i n", "Ġ a", "Ġa n", "e r", "Ġ Ġ", "ĠĠ ĠĠ"}
	for _, m := range merges {
		tokens = append(tokens, string(bytes.ReplaceAll([]byte(m), []byte(" "), nil)))
	}
	tokens = append(tokens, "<|bos|>", "<|eos|>", "<tool>")
	types := make([]int32, len(tokens))
	for i := range types {
		types[i] = int32(TypeNormal)
	}
	n := len(tokens)
	types[n-3], types[n-2], types[n-1] = int32(TypeControl), int32(TypeControl), int32(TypeUserDefined)
	return map[string]any{
		keyModel:     "gpt2",
		keyPre:       "llama-bpe",
		keyTokens:    tokens,
		keyTokenType: types,
		keyMerges:    merges,
		keyBOS:       uint32(n - 3),
		keyEOS:       uint32(n - 2),
	}
}

// tinySentencePieceKV is a small SentencePiece vocabulary with byte
// fallback.
func tinySentencePieceKV() map[string]any {
	tokens := []string{"<unk>", "<s>", "</s>"}
	types := []int32{int32(TypeUnknown), int32(TypeControl), int32(TypeControl)}
	scores := []float32{0, 0, 0}
	for b := 0; b < 256; b++ {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, int32(TypeByte))
		scores = append(scores, 0)
	}
	for i, p := range []string{"▁", "▁t", "he", "▁the", "▁a", "an", "▁an", "er", "e", "h", "t", "a", "n", "r", "▁▁", "é"} {
		tokens = append(tokens, p)
		types = append(types, int32(TypeNormal))
		scores = append(scores, -float32(i))
	}
	return map[string]any{
		keyModel:     "llama",
		keyTokens:    tokens,
		keyTokenType: types,
		keyScores:    scores,
		keyBOS:       uint32(1),
		keyEOS:       uint32(2),
		keyUNK:       uint32(0),
	}
}

func tinyByteLevel(t testing.TB) *Tokenizer {
	tok, err := ggufTokenizer(t, tinyByteLevelKV())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func tinySentencePiece(t testing.TB) *Tokenizer {
	tok, err := ggufTokenizer(t, tinySentencePieceKV())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// checkIDs fails when an id is outside the vocabulary.
func checkIDs(t testing.TB, tok *Tokenizer, ids []int) {
	t.Helper()
	for _, id := range ids {
		if id < 0 || id >= tok.VocabSize() {
			t.Fatalf("id %d outside the vocabulary of %d", id, tok.VocabSize())
		}
	}
}
