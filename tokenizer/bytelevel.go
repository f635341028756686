package tokenizer

import "unicode/utf8"

// The GPT-2 byte alphabet: byte-level BPE vocabularies spell every byte as
// one printable character so that pieces are valid strings. Bytes that are
// printable Latin-1 characters stand for themselves; the other 68 map to
// U+0100 onwards in byte order.
var (
	byteToRune [256]rune
	// runeToByte maps a character of the alphabet back to its byte; -1 for
	// characters outside the alphabet. The alphabet lies below U+0144.
	runeToByte [0x144]int16
	// byteToUTF8 holds the UTF-8 spelling of byteToRune, for appending.
	byteToUTF8 [256]string
)

func init() {
	for i := range runeToByte {
		runeToByte[i] = -1
	}
	n := 0
	for b := 0; b < 256; b++ {
		r := rune(b)
		if !(b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE && b <= 0xFF) {
			r = rune(256 + n)
			n++
		}
		byteToRune[b] = r
		runeToByte[r] = int16(b)
		byteToUTF8[b] = string(r)
	}
}

// appendByteLevel appends the byte-level spelling of s to dst.
func appendByteLevel(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		dst = append(dst, byteToUTF8[s[i]]...)
	}
	return dst
}

// ByteLevelEncode returns the byte-level (GPT-2 alphabet) spelling of the
// bytes of s, the form in which byte-level BPE vocabularies store pieces.
func ByteLevelEncode(s string) string {
	return string(appendByteLevel(make([]byte, 0, 2*len(s)), s))
}

// appendByteLevelDecoded appends the bytes spelled by piece. Characters
// outside the byte alphabet are copied as their UTF-8 encoding, so a piece
// that was never byte-level spelled decodes to itself.
func appendByteLevelDecoded(dst []byte, piece string) []byte {
	for i := 0; i < len(piece); {
		r, n := utf8.DecodeRuneInString(piece[i:])
		if r >= 0 && int(r) < len(runeToByte) && runeToByte[r] >= 0 && !(r == utf8.RuneError && n == 1) {
			dst = append(dst, byte(runeToByte[r]))
		} else {
			dst = append(dst, piece[i:i+n]...)
		}
		i += n
	}
	return dst
}

// ByteLevelDecode returns the bytes spelled by a byte-level piece.
func ByteLevelDecode(piece string) string {
	return string(appendByteLevelDecoded(nil, piece))
}
