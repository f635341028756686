package tokenizer

import (
	"fmt"
	"slices"

	"github.com/bitnet-go/bitnet/model/gguf"
)

// GGUF metadata keys of the tokenizer.
const (
	keyModel          = "tokenizer.ggml.model"
	keyPre            = "tokenizer.ggml.pre"
	keyTokens         = "tokenizer.ggml.tokens"
	keyScores         = "tokenizer.ggml.scores"
	keyTokenType      = "tokenizer.ggml.token_type"
	keyMerges         = "tokenizer.ggml.merges"
	keyBOS            = "tokenizer.ggml.bos_token_id"
	keyEOS            = "tokenizer.ggml.eos_token_id"
	keyUNK            = "tokenizer.ggml.unknown_token_id"
	keyEOT            = "tokenizer.ggml.eot_token_id"
	keyEOM            = "tokenizer.ggml.eom_token_id"
	keyPAD            = "tokenizer.ggml.padding_token_id"
	keyAddBOS         = "tokenizer.ggml.add_bos_token"
	keyAddEOS         = "tokenizer.ggml.add_eos_token"
	keyAddSpacePrefix = "tokenizer.ggml.add_space_prefix"
	keyChatTemplate   = "tokenizer.chat_template"
)

// preSplits maps tokenizer.ggml.pre values to split rules (the names
// llama.cpp gives the Llama 3 and GPT-2 rules).
var preSplits = map[string]Split{
	"llama-bpe": SplitLlama3,
	"llama3":    SplitLlama3,
	"llama-v3":  SplitLlama3,
	"falcon3":   SplitLlama3,
	"falcon-h1": SplitLlama3,
	"pixtral":   SplitLlama3,
	"gpt-2":     SplitGPT2,
	"gpt2":      SplitGPT2,
}

// FromGGUF builds the tokenizer stored in a GGUF file's metadata:
// tokenizer.ggml.model "gpt2" (byte-level BPE with merges) or "llama"
// (SentencePiece with scores and token types).
//
// For "gpt2" the split rule comes from tokenizer.ggml.pre; when that key is
// absent (as in the BitNet b1.58 2B4T file) the Llama 3 rule is used, and an
// unknown value also falls back to it with a warning (see Warnings).
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	t, err := fromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("GGUF tokenizer: %w", err)
	}
	return t, nil
}

func fromGGUF(f *gguf.File) (*Tokenizer, error) {
	model, ok := f.String(keyModel)
	if !ok {
		return nil, fmt.Errorf("%w: no %s", ErrFormat, keyModel)
	}
	var s *source
	switch model {
	case "gpt2":
		s = newSource(KindByteBPE)
	case "llama":
		s = newSource(KindSentencePiece)
	default:
		return nil, fmt.Errorf("%w: %s %q is not supported (want gpt2 or llama)", ErrFormat, keyModel, model)
	}
	if s.pieces, ok = f.Strings(keyTokens); !ok {
		return nil, fmt.Errorf("%w: %s missing or not an array of strings", ErrFormat, keyTokens)
	}
	n := len(s.pieces)
	if v, present := f.Get(keyTokenType); present {
		types, ok := v.Ints()
		if !ok {
			return nil, fmt.Errorf("%w: %s is not an array of integers", ErrFormat, keyTokenType)
		}
		if len(types) != n {
			return nil, fmt.Errorf("%w: %d token types for %d tokens", ErrFormat, len(types), n)
		}
		s.types = make([]TokenType, n)
		for i, ty := range types {
			if ty < 0 || ty > int64(TypeByte) {
				ty = int64(TypeNormal)
			}
			s.types[i] = TokenType(ty)
		}
	}
	if v, present := f.Get(keyScores); present {
		scores, ok := v.Float32s()
		if !ok {
			return nil, fmt.Errorf("%w: %s is not an array of numbers", ErrFormat, keyScores)
		}
		if len(scores) != n {
			return nil, fmt.Errorf("%w: %d scores for %d tokens", ErrFormat, len(scores), n)
		}
		s.scores = scores
	}
	if v, present := f.Get(keyMerges); present {
		if s.merges, ok = v.Strings(); !ok {
			return nil, fmt.Errorf("%w: %s is not an array of strings", ErrFormat, keyMerges)
		}
	}

	for _, k := range []struct {
		key string
		dst *int
	}{{keyBOS, &s.bos}, {keyEOS, &s.eos}, {keyUNK, &s.unk}, {keyEOT, &s.eot}, {keyEOM, &s.eom}, {keyPAD, &s.pad}} {
		if v, present := f.Get(k.key); present {
			id, ok := v.Int()
			if !ok || id < 0 || id >= int64(n) {
				s.warnf("%s = %v is not a token id: ignored", k.key, v.Format())
				continue
			}
			*k.dst = int(id)
		}
	}

	if s.kind == KindByteBPE {
		pre, present := f.String(keyPre)
		s.split = SplitLlama3
		if present {
			if sp, known := preSplits[pre]; known {
				s.split = sp
			} else {
				s.warnf("unknown pre-tokenizer %s = %q: using the Llama 3 split", keyPre, pre)
			}
		}
		// llama.cpp ignores merges for whole pieces already in the
		// vocabulary with the Llama 3 rule, as Meta's tokenizer does.
		s.ignoreMerges = s.split == SplitLlama3
		s.addBOS = s.split == SplitLlama3
	} else {
		s.prefix = prefixEachFragment
		if v, ok := f.Bool(keyAddSpacePrefix); ok && !v {
			s.prefix = prefixNever
		}
		s.addBOS = true
	}
	if v, ok := f.Bool(keyAddBOS); ok {
		s.addBOS = v
	}
	s.chatTemplate, _ = f.String(keyChatTemplate)
	return s.build()
}

// GGUFMetadata returns the tokenizer as GGUF metadata in the form llama.cpp
// reads, in a fixed order: model, pre (byte-level BPE), tokens, token types,
// scores (SentencePiece) or merges (BPE), special token ids and flags, and
// the chat template when there is one.
//
// A KindFallbackBPE tokenizer (a Llama 2 style tokenizer.json) is written as
// a "llama" SentencePiece vocabulary whose scores rank each piece by the
// merge that makes it; that reproduces the merge order for every piece a
// merge can make.
func (t *Tokenizer) GGUFMetadata() []gguf.KV {
	var kvs []gguf.KV
	add := func(key string, v any) {
		val, err := gguf.NewValue(v)
		if err != nil {
			panic(fmt.Sprintf("tokenizer: GGUF value for %s: %v", key, err)) // a programming error: v's type is fixed below
		}
		kvs = append(kvs, gguf.KV{Key: key, Value: val})
	}
	types := make([]int32, len(t.types))
	for i, ty := range t.types {
		types[i] = int32(ty)
	}
	if t.kind == KindByteBPE {
		add(keyModel, "gpt2")
		add(keyPre, t.split.String())
	} else {
		add(keyModel, "llama")
	}
	add(keyTokens, slices.Clone(t.pieces))
	add(keyTokenType, types)
	switch t.kind {
	case KindByteBPE:
		merges := make([]string, len(t.mergeList))
		for i, m := range t.mergeList {
			merges[i] = t.pieces[m.left] + " " + t.pieces[m.right]
		}
		add(keyMerges, merges)
	case KindSentencePiece:
		add(keyScores, slices.Clone(t.scores))
	case KindFallbackBPE:
		add(keyScores, t.mergeScores())
	}
	for _, k := range []struct {
		key string
		id  int
	}{{keyBOS, t.bos}, {keyEOS, t.eos}, {keyUNK, int(t.unk)}, {keyEOT, t.eot}, {keyEOM, t.eom}, {keyPAD, t.pad}} {
		if k.id >= 0 {
			add(k.key, uint32(k.id))
		}
	}
	add(keyAddBOS, t.addBOS)
	add(keyAddEOS, false)
	if t.kind != KindByteBPE {
		add(keyAddSpacePrefix, t.prefix != prefixNever)
	}
	if t.chatTemplate != "" {
		add(keyChatTemplate, t.chatTemplate)
	}
	return kvs
}

// AddToGGUF adds GGUFMetadata to a GGUF writer.
func (t *Tokenizer) AddToGGUF(w *gguf.Writer) {
	for _, kv := range t.GGUFMetadata() {
		w.AddKV(kv.Key, kv.Value.Any())
	}
}

// mergeScores gives each piece made by a merge the score -rank, and every
// other piece a score below all of them.
func (t *Tokenizer) mergeScores() []float32 {
	scores := make([]float32, len(t.pieces))
	floor := -float32(len(t.mergeList) + 1)
	for i := range scores {
		scores[i] = floor
	}
	for _, m := range t.mergeList {
		if s := -float32(m.rule.rank); s > scores[m.rule.id] {
			scores[m.rule.id] = s
		}
	}
	return scores
}
