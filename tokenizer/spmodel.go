package tokenizer

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
)

// maxModelSize bounds a tokenizer.model read into memory.
const maxModelSize = 64 << 20

// FromSentencePiece loads a SentencePiece tokenizer.model (the Llama 2
// family's) as a KindSentencePiece tokenizer, exactly as llama.cpp's
// converter would store it in a GGUF: pieces, scores and types, BOS/EOS/unk
// from the trainer settings, and the space prefix from add_dummy_prefix.
func FromSentencePiece(path string) (*Tokenizer, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	if info.Size() > maxModelSize {
		return nil, fmt.Errorf("load %s: %w: larger than %d bytes", path, ErrFormat, maxModelSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load tokenizer: %w", err)
	}
	t, err := ParseSentencePiece(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return t, nil
}

// ParseSentencePiece parses the bytes of a SentencePiece model (a ModelProto
// protocol buffer; see FromSentencePiece).
func ParseSentencePiece(data []byte) (*Tokenizer, error) {
	s := newSource(KindSentencePiece)
	s.unk, s.bos, s.eos = 0, 1, 2 // SentencePiece's defaults
	s.prefix = prefixEachFragment
	s.addBOS = true
	err := protoFields(data, func(field int, wire int, v uint64, b []byte) error {
		switch {
		case field == 1 && wire == wireBytes: // pieces
			return s.addProtoPiece(b)
		case field == 2 && wire == wireBytes: // trainer_spec
			return protoFields(b, func(field int, wire int, v uint64, _ []byte) error {
				if wire != wireVarint {
					return nil
				}
				id := int(int32(v))
				switch field {
				case 40:
					s.unk = id
				case 41:
					s.bos = id
				case 42:
					s.eos = id
				case 43:
					s.pad = id
				}
				return nil
			})
		case field == 3 && wire == wireBytes: // normalizer_spec
			return protoFields(b, func(field int, wire int, v uint64, _ []byte) error {
				if field == 3 && wire == wireVarint && v == 0 { // add_dummy_prefix
					s.prefix = prefixNever
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: SentencePiece model: %v", ErrFormat, err)
	}
	for _, id := range []*int{&s.unk, &s.bos, &s.eos, &s.pad} {
		if *id < 0 || *id >= len(s.pieces) {
			*id = -1
		}
	}
	return s.build()
}

// addProtoPiece reads one ModelProto.SentencePiece {piece, score, type}.
func (s *source) addProtoPiece(b []byte) error {
	if len(s.pieces) >= maxVocab {
		return fmt.Errorf("more than %d pieces", maxVocab)
	}
	piece, score, typ := "", float32(0), TypeNormal
	err := protoFields(b, func(field int, wire int, v uint64, b []byte) error {
		switch {
		case field == 1 && wire == wireBytes:
			piece = string(b)
		case field == 2 && wire == wireFixed32:
			score = math.Float32frombits(uint32(v))
		case field == 3 && wire == wireVarint:
			typ = TokenType(v)
			if v > uint64(TypeByte) || v == 0 {
				typ = TypeNormal
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.pieces = append(s.pieces, piece)
	s.scores = append(s.scores, score)
	s.types = append(s.types, typ)
	return nil
}

// Protocol buffer wire types.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// protoFields calls fn for each field of an encoded message: the varint or
// fixed value in v, the contents of a length-delimited field in b.
func protoFields(data []byte, fn func(field, wire int, v uint64, b []byte) error) error {
	for len(data) > 0 {
		key, n := binary.Uvarint(data)
		if n <= 0 {
			return fmt.Errorf("bad field key")
		}
		data = data[n:]
		field, wire := int(key>>3), int(key&7)
		var v uint64
		var b []byte
		switch wire {
		case wireVarint:
			v, n = binary.Uvarint(data)
			if n <= 0 {
				return fmt.Errorf("bad varint in field %d", field)
			}
			data = data[n:]
		case wireFixed64:
			if len(data) < 8 {
				return fmt.Errorf("truncated field %d", field)
			}
			v = binary.LittleEndian.Uint64(data)
			data = data[8:]
		case wireFixed32:
			if len(data) < 4 {
				return fmt.Errorf("truncated field %d", field)
			}
			v = uint64(binary.LittleEndian.Uint32(data))
			data = data[4:]
		case wireBytes:
			l, n := binary.Uvarint(data)
			if n <= 0 || l > uint64(len(data)-n) {
				return fmt.Errorf("bad length in field %d", field)
			}
			b = data[n : n+int(l)]
			data = data[n+int(l):]
		default:
			return fmt.Errorf("unsupported wire type %d in field %d", wire, field)
		}
		if err := fn(field, wire, v, b); err != nil {
			return err
		}
	}
	return nil
}
