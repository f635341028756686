// Package tokenizer turns text into token ids and back for the models bitnet
// runs: Llama 3 style byte-level BPE (BitNet b1.58 2B4T, Llama3-8B-1.58,
// Falcon3) and Llama 2 style SentencePiece (the 1bitLLM models).
//
// A Tokenizer is built from a GGUF file's tokenizer.ggml.* metadata
// (FromGGUF), a Hugging Face tokenizer.json (FromJSON), or a SentencePiece
// tokenizer.model (FromSentencePiece). Three encoders sit behind it:
//
//   - byte-level BPE: text is cut with the Llama 3 (or GPT-2) split rule by a
//     hand-written scanner, each piece's bytes are spelled with the GPT-2
//     byte alphabet and merged by merge rank;
//   - BPE with byte fallback (a tokenizer.json in the Llama 2 style): the
//     whole text, with spaces spelled "▁", is merged by merge rank, and
//     characters missing from the vocabulary become <0xNN> byte tokens;
//   - SentencePiece by scores (a GGUF of type "llama"): llama.cpp's
//     algorithm, which merges the highest-scoring adjacent pair first.
//
// All three use one merge engine: a linked list of symbols and a binary heap
// of candidate pairs, so encoding is near-linear in the length of the text.
//
// Special and added tokens are cut out of the text before any of this, so
// "<|eot_id|>" in a chat transcript becomes one id. Decoding reverses the
// spelling; a StreamDecoder does it token by token and only ever hands out
// complete UTF-8.
//
// github.com/sugarme/tokenizer supplies the BPE trainer (TrainByteBPE). Its
// tokenizer.json loader and BPE merge loop are not used: see DESIGN.md §8 and
// the benchmarks in this package for why.
package tokenizer
