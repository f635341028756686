package tokenizer

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// ErrUsage is matched (errors.Is) by the errors RunTokenize returns for bad
// command lines.
var ErrUsage = errors.New("usage")

// usageError is a bad command line: its message alone, one line.
type usageError struct{ msg string }

func (e usageError) Error() string        { return e.msg }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

const tokenizeUsage = `usage: bitnet tokenize (-m MODEL | --tokenizer FILE) [--json] [--bos] [TEXT...]

Prints the token ids of TEXT (the arguments joined by spaces, or all of
standard input when there are none) with the vocabulary piece of each.
Special tokens written in the text, such as <|eot_id|>, are matched.
MODEL is what bitnet -m takes: a GGUF file, a Hugging Face model directory
or a downloaded model's name. FILE is a tokenizer.json, a SentencePiece
tokenizer.model or a GGUF file.

`

// TokenizeOptions configure RunTokenize.
type TokenizeOptions struct {
	// OpenModel returns the tokenizer of the model -m names. nil means
	// Load: -m then takes a file (GGUF, tokenizer.json, tokenizer.model).
	// The bitnet command gives a function that also takes a Hugging Face
	// model directory and the name of a downloaded model, as bitnet -m does.
	OpenModel func(arg string) (*Tokenizer, error)
}

// MaxTokenizeInput bounds the text RunTokenize reads from standard input
// (64 MiB): its ids and pieces take several times the text's size.
const MaxTokenizeInput = 64 << 20

// RunTokenize is the "bitnet tokenize" command. args are the arguments after
// the command name. Flags may come before or after the text; "--" ends them.
// A bad command line gives a one-line error matching ErrUsage, and nothing
// is printed; -h prints the usage to stderr and returns flag.ErrHelp.
func RunTokenize(args []string, stdin io.Reader, stdout, stderr io.Writer, opts TokenizeOptions) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	var model, tokFile string
	var asJSON, bos bool
	fs.StringVar(&model, "m", "", "model: GGUF file, Hugging Face model directory or downloaded model's name")
	fs.StringVar(&model, "model", "", "same as -m")
	fs.StringVar(&tokFile, "tokenizer", "", "tokenizer.json, tokenizer.model or GGUF file")
	fs.BoolVar(&asJSON, "json", false, `print one JSON object {"ids": [...], "pieces": [...]}`)
	fs.BoolVar(&bos, "bos", false, "put the beginning-of-sequence token first")
	// The flag package's own messages are kept quiet so that an error is
	// one line; the usage is printed only for -h.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}

	// Parse flags between the words of the text as well.
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, tokenizeUsage)
				fs.SetOutput(stderr)
				fs.PrintDefaults()
				return err
			}
			return usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			words = append(words, rest...)
			break
		}
		words = append(words, rest[0])
		args = rest[1:]
	}
	if (model == "") == (tokFile == "") {
		return usagef("give exactly one of -m MODEL and --tokenizer FILE")
	}

	var tok *Tokenizer
	var err error
	switch {
	case tokFile != "":
		tok, err = Load(tokFile)
	case opts.OpenModel != nil:
		tok, err = opts.OpenModel(model)
	default:
		tok, err = Load(model)
	}
	if err != nil {
		return err
	}
	for _, w := range tok.Warnings() {
		fmt.Fprintf(stderr, "bitnet tokenize: warning: %s\n", w)
	}

	text := strings.Join(words, " ")
	if len(words) == 0 {
		data, err := io.ReadAll(io.LimitReader(stdin, MaxTokenizeInput+1))
		if err != nil {
			return fmt.Errorf("read standard input: %w", err)
		}
		if len(data) > MaxTokenizeInput {
			return fmt.Errorf("standard input is longer than %d MiB: tokenize it in parts", MaxTokenizeInput>>20)
		}
		text = string(data)
	}
	ids := tok.Encode(text, EncodeOptions{AddBOS: bos, ParseSpecial: true})
	return printTokens(stdout, tok, ids, asJSON)
}

// printTokens writes ids and their pieces, as lines "id<TAB>"piece"" or as
// one JSON object.
func printTokens(w io.Writer, tok *Tokenizer, ids []int, asJSON bool) error {
	pieces := make([]string, len(ids))
	for i, id := range ids {
		pieces[i] = tok.Piece(id)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		return enc.Encode(struct {
			IDs    []int    `json:"ids"`
			Pieces []string `json:"pieces"`
		}{ids, pieces})
	}
	var b strings.Builder
	for i, id := range ids {
		fmt.Fprintf(&b, "%d\t%q\n", id, pieces[i])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
