package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// decodeState carries what the spelling of one token depends on: whether
// the previous token was a special (control, user-defined or unknown) token or
// nothing at all, after which SentencePiece-style tokenizers drop the "▁"
// that encoding put in front of the text.
type decodeState struct {
	started     bool
	lastSpecial bool
}

// appendToken appends the bytes of token id. Ids outside the vocabulary add
// nothing. Special tokens are written as their text, so
// Decode(Encode(s, ParseSpecial)) gives s back.
func (t *Tokenizer) appendToken(dst []byte, id int, st *decodeState) []byte {
	if id < 0 || id >= len(t.pieces) {
		return dst
	}
	atStart := !st.started || st.lastSpecial
	st.started = true
	typ := t.types[id]
	st.lastSpecial = typ == TypeControl || typ == TypeUserDefined || typ == TypeUnknown
	piece := t.pieces[id]
	switch {
	case st.lastSpecial:
		return append(dst, piece...)
	case t.kind == KindByteBPE:
		return appendByteLevelDecoded(dst, piece)
	case typ == TypeByte:
		if b, ok := parseByteToken(piece); ok {
			return append(dst, b)
		}
		return append(dst, piece...)
	}
	if atStart && t.prefix != prefixNever && strings.HasPrefix(piece, spaceMark) {
		piece = piece[len(spaceMark):]
	}
	for {
		i := strings.Index(piece, spaceMark)
		if i < 0 {
			return append(dst, piece...)
		}
		dst = append(append(dst, piece[:i]...), ' ')
		piece = piece[i+len(spaceMark):]
	}
}

// parseByteToken reads a byte-fallback piece "<0xNN>".
func parseByteToken(p string) (byte, bool) {
	if len(p) != 6 || p[:3] != "<0x" || p[5] != '>' {
		return 0, false
	}
	hi, ok1 := hexDigit(p[3])
	lo, ok2 := hexDigit(p[4])
	return hi<<4 | lo, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// Decode converts token ids to text. The result holds exactly the bytes the
// tokens spell, which need not be valid UTF-8 (a byte-level BPE tokenizer
// round-trips any bytes); ids outside the vocabulary are skipped. Control
// tokens are written as their text: drop stop tokens before decoding model
// output.
func (t *Tokenizer) Decode(ids []int) string {
	var st decodeState
	var buf []byte
	for _, id := range ids {
		buf = t.appendToken(buf, id, &st)
	}
	return string(buf)
}

// StreamDecoder turns tokens arriving one at a time into printable text. It
// holds back the bytes of an incomplete UTF-8 character (a multi-byte
// character split across byte-level tokens or <0xNN> tokens) until the rest
// arrives, so every string it returns is valid UTF-8, and the concatenation
// of its output equals Decode of all tokens whenever that is valid UTF-8.
// Bytes that can never form a character come out as U+FFFD, one per byte.
type StreamDecoder struct {
	t       *Tokenizer
	st      decodeState
	pending []byte
}

// NewStreamDecoder returns a decoder for one stream of tokens, such as one
// reply of the model.
func (t *Tokenizer) NewStreamDecoder() *StreamDecoder {
	return &StreamDecoder{t: t}
}

// Add decodes one more token and returns the text that is now complete
// (possibly "").
func (d *StreamDecoder) Add(id int) string {
	d.pending = d.t.appendToken(d.pending, id, &d.st)
	return d.drain(false)
}

// Flush returns what is still held back, with U+FFFD for the bytes of an
// unfinished character, and resets the decoder for a new stream.
func (d *StreamDecoder) Flush() string {
	s := d.drain(true)
	d.st = decodeState{}
	return s
}

// drain returns the complete characters at the front of pending and keeps
// an unfinished one (unless final).
func (d *StreamDecoder) drain(final bool) string {
	p := d.pending
	var out []byte
	i := 0
	valid := 0 // p[valid:i] is not yet copied to out
	for i < len(p) {
		if p[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r != utf8.RuneError || n > 1 {
			i += n
			continue
		}
		if !final && !utf8.FullRune(p[i:]) {
			break // the start of a character whose rest has not arrived
		}
		out = append(out, p[valid:i]...)
		out = append(out, "\uFFFD"...)
		i++
		valid = i
	}
	var s string
	if out == nil {
		s = string(p[:i])
	} else {
		s = string(append(out, p[valid:i]...))
	}
	d.pending = append(d.pending[:0], p[i:]...)
	return s
}
