package main

func genFloat(f *asmFile) {}
