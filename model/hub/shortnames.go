package hub

import "strings"

// ShortName is a memorable name for a known model on the hub.
type ShortName struct {
	Name string // what users type: "bitnet-2b4t"
	Repo string // the repository id
	File string // the one file to fetch, or "" for the files a model needs
	// About says what the model is, for `bitnet list -names`.
	About string
}

// ShortNames lists the models of DESIGN.md §2 by short name. Repository ids
// are spelled as their model cards spell them (the hub matches ids without
// regard to case).
var ShortNames = []ShortName{
	{"bitnet-2b4t", "microsoft/bitnet-b1.58-2B-4T-gguf", "ggml-model-i2_s.gguf", "BitNet b1.58 2B4T, I2_S GGUF (1.19 GB)"},
	{"bitnet-2b4t-hf", "microsoft/bitnet-b1.58-2B-4T", "", "BitNet b1.58 2B4T, packed ternary safetensors"},
	{"bitnet-2b4t-bf16", "microsoft/bitnet-b1.58-2B-4T-bf16", "", "BitNet b1.58 2B4T, bf16 master weights"},
	{"bitnet-large", "1bitLLM/bitnet_b1_58-large", "", "1bitLLM BitNet b1.58 0.7B, fp16 latent weights"},
	{"bitnet-3b", "1bitLLM/bitnet_b1_58-3B", "", "1bitLLM BitNet b1.58 3.3B, fp16 latent weights"},
	{"llama3-8b-1.58", "HF1BitLLM/Llama3-8B-1.58-100B-tokens", "", "Llama 3 8B fine-tuned to 1.58 bits, packed"},
	{"falcon3-1b-1.58", "tiiuae/Falcon3-1B-Instruct-1.58bit", "", "Falcon3 1B Instruct, 1.58-bit, packed"},
	{"falcon3-3b-1.58", "tiiuae/Falcon3-3B-Instruct-1.58bit", "", "Falcon3 3B Instruct, 1.58-bit, packed"},
	{"falcon3-7b-1.58", "tiiuae/Falcon3-7B-Instruct-1.58bit", "", "Falcon3 7B Instruct, 1.58-bit, packed"},
	{"falcon3-10b-1.58", "tiiuae/Falcon3-10B-Instruct-1.58bit", "", "Falcon3 10B Instruct, 1.58-bit, packed"},
	{"falcon-e-1b", "tiiuae/Falcon-E-1B-Instruct", "", "Falcon-E 1B Instruct (BitNet), packed"},
	{"falcon-e-3b", "tiiuae/Falcon-E-3B-Instruct", "", "Falcon-E 3B Instruct (BitNet), packed"},
}

// LookupShortName returns the short name called name (case-insensitive).
func LookupShortName(name string) (ShortName, bool) {
	for _, sn := range ShortNames {
		if strings.EqualFold(sn.Name, name) {
			return sn, true
		}
	}
	return ShortName{}, false
}

// shortNamesFor returns the short names that refer to repo.
func shortNamesFor(repo string) []string {
	var out []string
	for _, sn := range ShortNames {
		if strings.EqualFold(sn.Repo, repo) {
			out = append(out, sn.Name)
		}
	}
	return out
}

func shortNameList() []string {
	out := make([]string, len(ShortNames))
	for i, sn := range ShortNames {
		out[i] = sn.Name
	}
	return out
}
