package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench"}, // no model
		{"bench", "-m", "x", "--synthetic", "tiny"}, // both
		{"bench", "--synthetic", "tiny", "-t", "0"},
		{"bench", "--synthetic", "tiny", "-t", "1,x"},
		{"bench", "--synthetic", "tiny", "-r", "0"},
		{"bench", "--synthetic", "tiny", "-p", "0", "-n", "0"},
		{"bench", "--synthetic", "tiny", "--synthetic-type", "f16"},
		{"bench", "--synthetic", "tiny", "extra"},
	} {
		if code, _, stderr := runCLI(t, "", args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d (usage); stderr %q", args, code, exitUsage, stderr)
		}
	}
}

// TestBenchJSON runs a short benchmark of the tiny synthetic shape and checks
// the JSON object's fields.
func TestBenchJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "bench", "--synthetic", "tiny", "--synthetic-type", "i2_s",
		"-p", "8", "-n", "4", "-r", "3", "-t", "1,2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		ModelBytes    int64   `json:"model_bytes"`
		BytesPerToken int64   `json:"bytes_per_token"`
		Threads       int     `json:"threads"`
		PP            float64 `json:"pp_tokens_per_s"`
		TG            float64 `json:"tg_tokens_per_s"`
		Bandwidth     float64 `json:"read_bandwidth_bytes_per_s"`
		WeightType    string  `json:"weight_type"`
		Runs          []struct {
			Threads   int       `json:"threads"`
			PPSamples []float64 `json:"pp_samples"`
			TGSamples []float64 `json:"tg_samples"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout)
	}
	if r.ModelBytes <= 0 || r.BytesPerToken <= 0 || r.BytesPerToken > r.ModelBytes {
		t.Errorf("model_bytes %d, bytes_per_token %d", r.ModelBytes, r.BytesPerToken)
	}
	if r.Threads != 2 || len(r.Runs) != 2 || r.Runs[0].Threads != 1 || r.Runs[1].Threads != 2 {
		t.Errorf("threads %d, runs %+v; want runs for 1 and 2 threads, 2 at the top", r.Threads, r.Runs)
	}
	if r.PP <= 0 || r.TG <= 0 || r.Bandwidth <= 0 || r.WeightType != "I2_S" {
		t.Errorf("pp %v, tg %v tokens/s, bandwidth %v, weights %q", r.PP, r.TG, r.Bandwidth, r.WeightType)
	}
	for _, run := range r.Runs {
		if len(run.PPSamples) != 3 || len(run.TGSamples) != 3 {
			t.Errorf("threads %d: %d pp and %d tg samples, want 3 each", run.Threads, len(run.PPSamples), len(run.TGSamples))
		}
	}
}

func TestBenchTable(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "bench", "--synthetic", "tiny", "-p", "4", "-n", "0", "-r", "1", "-t", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "| pp4 ") || strings.Contains(stdout, "tg") {
		t.Errorf("table lacks the pp4 row or has a tg row:\n%s", stdout)
	}
}
