// Package kernels holds the numeric building blocks of inference: tensor
// encodings and their decoders, packed ternary x int8 and float matrix
// products, activation quantisation, RMSNorm, RoPE, softmax, vector helpers
// and the persistent worker pool that runs them in parallel.
//
// Every kernel has a plain scalar Go version that is the reference (the
// oracle) for faster paths. Fast paths are chosen once, at package
// initialisation, and registered in dispatch tables next to their oracles;
// tests compare every registered path with the oracle. Nothing here knows what
// a transformer is.
package kernels
