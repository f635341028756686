module github.com/bitnet-go/bitnet

go 1.26
