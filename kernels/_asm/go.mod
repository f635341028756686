module bitnet/kernels/asmgen

go 1.26
